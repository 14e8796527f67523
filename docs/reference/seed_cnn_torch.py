# The seed CNN in PyTorch, used to check gradsync's early learning against an independent
# implementation (see README "Initial weights"). Not part of the build or the tests.
# Usage: python3 docs/reference/seed_cnn_torch.py keras|torch DROPOUT(0|1) STEPS [SEED [ARCHIVE]]
# Needs PyTorch (Debian: apt-get install python3-torch) and ../shared/cifar10/cifar-10-binary.tar.gz.
import sys, tarfile, io, time, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
init, drop, steps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
torch.manual_seed(seed); np.random.seed(seed)
def load():
    xs, ys = [], []
    with tarfile.open(sys.argv[5] if len(sys.argv) > 5 else '../shared/cifar10/cifar-10-binary.tar.gz') as t:
        for name in [f'cifar-10-batches-bin/data_batch_{i}.bin' for i in range(1,6)] + ['cifar-10-batches-bin/test_batch.bin']:
            b = np.frombuffer(t.extractfile(name).read(), np.uint8).reshape(-1, 3073)
            ys.append(b[:,0].astype(np.int64)); xs.append(b[:,1:].reshape(-1,3,32,32))
    return np.concatenate(xs[:5]), np.concatenate(ys[:5]), xs[5], ys[5]
xtr, ytr, xte, yte = load()
xtr = torch.tensor(xtr[:45000]).float()/255; ytr = torch.tensor(ytr[:45000])
xte = torch.tensor(xte).float()/255; yte = torch.tensor(yte)
d1, d2 = (0.25, 0.5) if drop else (0, 0)
net = nn.Sequential(
  nn.Conv2d(3,32,3), nn.ReLU(), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01),
  nn.Conv2d(32,32,3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(d1),
  nn.Conv2d(32,64,3), nn.ReLU(), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01),
  nn.Conv2d(64,64,3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(d1),
  nn.Flatten(), nn.Linear(64*5*5, 64), nn.ReLU(), nn.Dropout(d2), nn.Linear(64, 10))
if init == 'keras':
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight); nn.init.zeros_(m.bias)
opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
acc_window = []; t0 = time.time(); step = 0
while step < steps:
    perm = torch.randperm(45000)
    for i in range(0, 45000, 64):
        if step >= steps: break
        idx = perm[i:i+64]; net.train()
        out = net(xtr[idx]); loss = F.cross_entropy(out, ytr[idx])
        opt.zero_grad(); loss.backward(); opt.step()
        if 100 <= step < 120: acc_window.append((out.argmax(1) == ytr[idx]).float().mean().item())
        step += 1
net.eval()
with torch.no_grad():
    correct = sum((net(xte[i:i+500]).argmax(1) == yte[i:i+500]).sum().item() for i in range(0, 10000, 500))
print(f'init={init} dropout={drop} steps={steps} train-acc@100-119={np.mean(acc_window):.3f} test-acc={correct/10000:.3f} {time.time()-t0:.0f}s', flush=True)

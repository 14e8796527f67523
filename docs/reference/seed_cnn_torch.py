#!/usr/bin/env python3
"""The seed CNN in PyTorch: the independent reference for gradsync's early learning (README
"Initial weights") and for its benchmarks. Not part of the build or the tests.

Network (the Keras tutorial's, NCHW here): conv32-ReLU-BN, conv32-ReLU, maxpool, dropout 0.25,
conv64-ReLU-BN, conv64-ReLU, maxpool, dropout 0.25, flatten, dense64-ReLU, dropout 0.5, dense10.
3x3 kernels, valid padding; BatchNorm eps 1e-3, momentum 0.99 in Keras' sense (torch 0.01);
Adam lr 1e-3, eps 1e-7; cross-entropy; batch 64; inputs are bytes / 255.

Needs PyTorch (Debian: apt-get install python3-torch; if a pyenv or venv python3 shadows the
system one, run /usr/bin/python3) and, for the modes on real data,
../shared/cifar10/cifar-10-binary.tar.gz (the official binary layout). Run from the repository root.

1. Early learning (the original positional form, unchanged):
     python3 docs/reference/seed_cnn_torch.py keras|torch DROPOUT(0|1) STEPS [SEED [ARCHIVE]]
   One thread, no augmentation; prints one line:
     init=... dropout=... steps=... train-acc@100-119=0.xxx test-acc=0.xxx Ns

2. Single-process compute bench on random CIFAR-shaped data:
     python3 docs/reference/seed_cnn_torch.py bench --threads 1 [--batch 64] [--steps 30] [--warmup 5]
         [--predict-batch N] [--augment] [--init torch|keras] [--json]
   torch.set_num_threads(N), set_num_interop_threads(1). Train step = forward (train mode),
   cross-entropy, backward, Adam step (with --augment also the random flip + zoom, as gradsync's
   train step includes it); predict = eval-mode forward under no_grad. Medians over --steps
   timed steps after --warmup. Prints (numbers from a 5-step smoke run on a busy 2-core machine):
     torch 1.13.0a0, 1 thread(s) (interop 1), batch 64, median of 5 steps after 2 warm-up; load 4.21 -> 4.21
     train       258.1 img/s  (batch 64; step median 247.9 ms, min 237.4, max 263.2)
     predict     846.7 img/s  (batch 64; step median 75.6 ms, min 74.9, max 79.0)
   --json prints one JSON object instead: {"mode": "bench", "threads", "batch", "train_img_s",
   "predict_img_s", "train_step_ms_median", "predict_step_ms_median", ...}.

3. DistributedDataParallel bench (gloo on loopback, torch.multiprocessing spawn):
     python3 docs/reference/seed_cnn_torch.py ddp --procs 2 --threads-per-proc 1
         [--global-batch 64] [--steps 40] [--warmup 5] [--json]
   Each process takes global_batch/procs images of random data per step (the global batch is split,
   as gradsync's --batch-size is); every step is timed on rank 0 between two barriers. Prints median
   global img/s (global batch / median step time), the overall rate (global batch x steps / time of
   all timed steps, barriers included) and rank 0's median forward / backward (+ all-reduce) /
   Adam times, e.g. (5-step smoke run, busy 2-core machine):
     torch 1.13.0a0 DDP (gloo, loopback), 2 procs x 1 thread(s), global batch 64 (32+32), 5 timed steps ...
     median      466.9 img/s  (step median 137.1 ms, min 126.7, max 140.3)
     overall     468.4 img/s  (5 steps in 0.68 s, barriers included; 4.3 s with spawn and warm-up)
     rank 0 medians: forward 52.6 ms, backward + all-reduce 81.3 ms, Adam 2.4 ms
   --json prints one JSON object: {"mode": "ddp", "procs", "threads_per_proc",
   "global_batch", "img_s_median", "img_s_overall", "step_ms_median", ...}.

4. The tutorial's full recipe on CIFAR-10:
     python3 docs/reference/seed_cnn_torch.py recipe --data-dir ../shared/cifar10 [--epochs 20]
         [--threads N | --ddp-procs P [--threads N]] [--seed 1] [--init torch|keras] [--no-augment]
         [--limit-train N] [--limit-steps N] [--limit-eval N] [--json]
   45,000 train / the last 5,000 training images as validation / 10,000 test; per-sample random
   horizontal flip and random zoom +-10% (Keras RandomZoom: aspect kept, bilinear, reflect fill),
   drawn anew for every batch; batch 64 (global; the last partial batch is kept); ReduceLROnPlateau
   on validation loss as Keras does it (factor 0.2, patience 3, min_delta 1e-4); 20 epochs.
   --data-dir holds cifar-10-binary.tar.gz or data_batch_{1..5}.bin + test_batch.bin (also accepted
   inside cifar-10-batches-bin/); it may also be the archive's path. --threads is per process (default
   1). With --ddp-procs, P processes split each global batch (DDP, gloo; BatchNorm normalises with
   each process's own batch statistics (no SyncBatchNorm) and DDP broadcasts rank 0's running
   statistics at every forward, its default) and the evaluation is split across them. Prints one line per epoch
   (train wall time and img/s, train loss/acc, validation loss/acc, test acc, eval time, lr) and the
   total wall time; --json adds a final JSON object with every epoch.
   The full run takes long on a small machine (two cores: ~20 min or more); to check that it
   works use e.g. --epochs 1 --limit-train 640 --limit-eval 500.
"""
import argparse, json, os, socket, statistics, sys, tarfile, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

BATCH_FILES = [f'data_batch_{i}.bin' for i in range(1, 6)] + ['test_batch.bin']
ARCHIVE = 'cifar-10-binary.tar.gz'


# ---------------------------------------------------------------------------------------------
# Shared pieces

def make_net(d1=0.25, d2=0.5, init='torch'):
    net = nn.Sequential(
      nn.Conv2d(3,32,3), nn.ReLU(), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01),
      nn.Conv2d(32,32,3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(d1),
      nn.Conv2d(32,64,3), nn.ReLU(), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01),
      nn.Conv2d(64,64,3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(d1),
      nn.Flatten(), nn.Linear(64*5*5, 64), nn.ReLU(), nn.Dropout(d2), nn.Linear(64, 10))
    if init == 'keras':  # glorot_uniform kernels, zero biases
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight); nn.init.zeros_(m.bias)
    return net


def make_opt(params, lr=1e-3):
    return torch.optim.Adam(params, lr=lr, eps=1e-7)


def load_cifar(where):
    """(train x uint8 [50000,3,32,32], train y int64, test x, test y) from the archive or the
    .bin files. `where` is the archive's path or a folder holding it or the batch files."""
    def parse(raw):
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3073)
        return b[:, 1:].reshape(-1, 3, 32, 32), b[:, 0].astype(np.int64)
    parts = None
    if os.path.isdir(where):
        for d in (where, os.path.join(where, 'cifar-10-batches-bin')):
            if all(os.path.isfile(os.path.join(d, f)) for f in BATCH_FILES):
                parts = []
                for f in BATCH_FILES:
                    with open(os.path.join(d, f), 'rb') as fh: parts.append(parse(fh.read()))
                break
        if parts is None:
            archive = os.path.join(where, ARCHIVE)
            if not os.path.isfile(archive):
                sys.exit(f'no {ARCHIVE} nor {", ".join(BATCH_FILES)} in {where}')
            where = archive
    if parts is None:
        with tarfile.open(where) as t:
            parts = [parse(t.extractfile(f'cifar-10-batches-bin/{f}').read()) for f in BATCH_FILES]
    xs, ys = zip(*parts)
    return np.concatenate(xs[:5]), np.concatenate(ys[:5]), xs[5], ys[5]


def augment(x, gen, zoom_range=0.1, flip=True):
    """Per-sample random horizontal flip (p 1/2) and Keras RandomZoom(zoom_range): the output pixel
    at (x, y) samples the input at z*(x-c)+c (mirrored when flipped), z ~ U[1-r, 1+r], bilinear, with
    reflect fill. With align_corners=False, grid_sample's 'reflection' padding followed by its clamp
    gives TensorFlow's reflect mode for the coordinates a +-10% zoom reaches (under 1.6 px outside)."""
    n = x.shape[0]
    z = 1 + zoom_range * (2 * torch.rand(n, generator=gen) - 1)
    s = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) if flip else torch.ones(n)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = s * z; theta[:, 1, 1] = z
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='reflection', align_corners=False)


def set_threads(n):
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only allowed once and before any inter-op work
        pass


def median_ms(ts):
    return statistics.median(ts) * 1000


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def ddp_env(port):
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('GLOO_SOCKET_IFNAME', 'lo')


def ddp_exit(dist):
    """Ends a DDP worker without running destructors. Letting DistributedDataParallel's reducer and
    the gloo process group be destroyed at return deadlocks now and then with torch 1.13: the main
    thread joins a gloo worker thread while holding the GIL, and that thread is releasing a tensor
    whose Python object needs the GIL (seen with gdb; the stuck process spins a core)."""
    dist.barrier()
    sys.stdout.flush(); sys.stderr.flush()
    os._exit(0)


def split_sizes(total, procs):
    """np.array_split's sizes: the first total % procs ranks take one more."""
    return [total // procs + (1 if r < total % procs else 0) for r in range(procs)]


# ---------------------------------------------------------------------------------------------
# 1. Early learning (the original script)

def legacy(argv):
    torch.set_num_threads(1)
    init, drop, steps = argv[0], float(argv[1]), int(argv[2])
    seed = int(argv[3]) if len(argv) > 3 else 0
    torch.manual_seed(seed); np.random.seed(seed)
    xtr, ytr, xte, yte = load_cifar(argv[4] if len(argv) > 4 else os.path.join('..', 'shared', 'cifar10', ARCHIVE))
    xtr = torch.tensor(xtr[:45000]).float()/255; ytr = torch.tensor(ytr[:45000])
    xte = torch.tensor(xte).float()/255; yte = torch.tensor(yte)
    d1, d2 = (0.25, 0.5) if drop else (0, 0)
    net = make_net(d1, d2, 'keras' if init == 'keras' else 'torch')
    opt = make_opt(net.parameters())
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


# ---------------------------------------------------------------------------------------------
# 2. bench

def random_batch(n, gen):
    x = torch.randint(0, 256, (n, 3, 32, 32), generator=gen, dtype=torch.uint8)
    return x, torch.randint(0, 10, (n,), generator=gen)


def cmd_bench(a):
    set_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    net = make_net(init=a.init); opt = make_opt(net.parameters())
    xb, y = random_batch(a.batch, gen)
    train = []
    net.train()
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        x = xb.float() / 255
        if a.augment: x = augment(x, gen)
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        if i >= a.warmup: train.append(time.perf_counter() - t0)
    pb = a.predict_batch or a.batch
    xp, _ = random_batch(pb, gen)
    predict = []
    net.eval()
    with torch.no_grad():
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            p = F.softmax(net(xp.float() / 255), 1)
            if i >= a.warmup: predict.append(time.perf_counter() - t0)
    assert p.shape == (pb, 10)
    r = dict(mode='bench', torch=torch.__version__, threads=torch.get_num_threads(),
             interop_threads=torch.get_num_interop_threads(), batch=a.batch, predict_batch=pb,
             steps=a.steps, warmup=a.warmup, augment=a.augment, init=a.init,
             train_img_s=a.batch / statistics.median(train), predict_img_s=pb / statistics.median(predict),
             train_step_ms_median=median_ms(train), train_step_ms_min=min(train) * 1000,
             train_step_ms_max=max(train) * 1000, predict_step_ms_median=median_ms(predict),
             predict_step_ms_min=min(predict) * 1000, predict_step_ms_max=max(predict) * 1000,
             train_step_ms=[round(t * 1000, 2) for t in train], cpus=os.cpu_count(),
             loadavg_before_after=[LOAD0, os.getloadavg()])
    if a.json:
        print(json.dumps(r), flush=True)
        return
    print(f"torch {r['torch']}, {r['threads']} thread(s) (interop {r['interop_threads']}), batch {a.batch}"
          f"{' + augment' if a.augment else ''}, median of {a.steps} steps after {a.warmup} warm-up; "
          f"load {LOAD0[0]:.2f} -> {os.getloadavg()[0]:.2f}")
    for k, n in (('train', a.batch), ('predict', pb)):
        print(f"{k:8s} {r[k + '_img_s']:8.1f} img/s  (batch {n}; step median {r[k + '_step_ms_median']:.1f} ms,"
              f" min {r[k + '_step_ms_min']:.1f}, max {r[k + '_step_ms_max']:.1f})", flush=True)


# ---------------------------------------------------------------------------------------------
# 3. ddp bench

def ddp_bench_worker(rank, a, port, queue):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    set_threads(a.threads_per_proc)
    ddp_env(port)
    dist.init_process_group('gloo', rank=rank, world_size=a.procs)
    torch.manual_seed(a.seed)  # same start everywhere (DDP also broadcasts rank 0's weights)
    gen = torch.Generator().manual_seed(a.seed + 1000 * (rank + 1))
    n = split_sizes(a.global_batch, a.procs)[rank]
    net = DDP(make_net(init=a.init)); opt = make_opt(net.parameters())
    xb, y = random_batch(n, gen)
    scale = a.procs * n / a.global_batch  # DDP averages: local sum * P / N sums to the global mean
    steps, fwd, bwd, adam = [], [], [], []
    net.train()
    dist.barrier()
    for i in range(a.warmup + a.steps):
        if i == a.warmup:
            dist.barrier(); t_all = time.perf_counter()
        dist.barrier()
        t0 = time.perf_counter()
        x = xb.float() / 255
        if a.augment: x = augment(x, gen)
        loss = F.cross_entropy(net(x), y) * scale
        t1 = time.perf_counter()
        opt.zero_grad(); loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        dist.barrier()
        t4 = time.perf_counter()
        if i >= a.warmup:
            steps.append(t4 - t0); fwd.append(t1 - t0); bwd.append(t2 - t1); adam.append(t3 - t2)
    t_all = time.perf_counter() - t_all
    if rank == 0:
        queue.put(dict(steps=steps, fwd=fwd, bwd=bwd, adam=adam, total=t_all,
                       threads=torch.get_num_threads(), interop=torch.get_num_interop_threads()))
    ddp_exit(dist)


def cmd_ddp(a):
    import torch.multiprocessing as mp
    if a.global_batch < a.procs: sys.exit('--global-batch must be at least --procs')
    ctx = mp.get_context('spawn')
    queue = ctx.SimpleQueue()
    port = free_port()
    t0 = time.perf_counter()
    mp.spawn(ddp_bench_worker, args=(a, port, queue), nprocs=a.procs, join=True)
    wall = time.perf_counter() - t0
    q = queue.get()
    med = statistics.median(q['steps'])
    r = dict(mode='ddp', torch=torch.__version__, backend='gloo', procs=a.procs,
             threads_per_proc=q['threads'], interop_threads=q['interop'], global_batch=a.global_batch,
             local_batches=split_sizes(a.global_batch, a.procs), steps=a.steps, warmup=a.warmup,
             augment=a.augment, init=a.init,
             img_s_median=a.global_batch / med, img_s_overall=a.global_batch * a.steps / q['total'],
             step_ms_median=med * 1000, step_ms_min=min(q['steps']) * 1000, step_ms_max=max(q['steps']) * 1000,
             rank0_forward_ms_median=median_ms(q['fwd']), rank0_backward_allreduce_ms_median=median_ms(q['bwd']),
             rank0_adam_ms_median=median_ms(q['adam']), timed_s=q['total'], wall_s_incl_spawn=wall,
             step_ms=[round(t * 1000, 2) for t in q['steps']], cpus=os.cpu_count(),
             loadavg_before_after=[LOAD0, os.getloadavg()])
    if a.json:
        print(json.dumps(r), flush=True)
        return
    print(f"torch {r['torch']} DDP (gloo, loopback), {a.procs} procs x {r['threads_per_proc']} thread(s), global batch"
          f" {a.global_batch} ({'+'.join(map(str, r['local_batches']))}){' + augment' if a.augment else ''},"
          f" {a.steps} timed steps after {a.warmup} warm-up; load {LOAD0[0]:.2f} -> {os.getloadavg()[0]:.2f}")
    print(f"median   {r['img_s_median']:8.1f} img/s  (step median {r['step_ms_median']:.1f} ms, min {r['step_ms_min']:.1f},"
          f" max {r['step_ms_max']:.1f})")
    print(f"overall  {r['img_s_overall']:8.1f} img/s  ({a.steps} steps in {r['timed_s']:.2f} s, barriers included;"
          f" {wall:.1f} s with spawn and warm-up)")
    print(f"rank 0 medians: forward {r['rank0_forward_ms_median']:.1f} ms, backward + all-reduce"
          f" {r['rank0_backward_allreduce_ms_median']:.1f} ms, Adam {r['rank0_adam_ms_median']:.1f} ms", flush=True)


# ---------------------------------------------------------------------------------------------
# 4. recipe

class KerasPlateau:
    """keras.callbacks.ReduceLROnPlateau(monitor='val_loss', mode='min'), as gradsync's plateau.ts."""
    def __init__(self, lr, factor=0.2, patience=3, min_delta=1e-4, cooldown=0, min_lr=0.0):
        self.lr, self.factor, self.patience, self.min_delta = lr, factor, patience, min_delta
        self.cooldown, self.min_lr = cooldown, min_lr
        self.best, self.wait, self.cooldown_left = float('inf'), 0, 0

    def step(self, value):
        if self.cooldown_left > 0: self.cooldown_left -= 1
        if value < self.best - self.min_delta:
            self.best, self.wait = value, 0
        elif self.cooldown_left == 0:
            self.wait += 1
            if self.wait >= self.patience and self.lr > self.min_lr:
                self.lr = max(self.lr * self.factor, self.min_lr)
                self.cooldown_left, self.wait = self.cooldown, 0
        return self.lr


def evaluate(model, x, y, lo, hi, chunk=500):
    """(loss sum, correct, count) over x[lo:hi] in eval mode."""
    model.eval()
    loss = correct = 0.0
    with torch.no_grad():
        for i in range(lo, hi, chunk):
            j = min(i + chunk, hi)
            out = model(x[i:j].float() / 255)
            loss += F.cross_entropy(out, y[i:j], reduction='sum').item()
            correct += (out.argmax(1) == y[i:j]).sum().item()
    return torch.tensor([loss, correct, float(hi - lo)], dtype=torch.float64)


def recipe_data(a):
    xtr, ytr, xte, yte = load_cifar(a.data_dir)
    nv = a.validation
    xva, yva = xtr[len(xtr) - nv:], ytr[len(ytr) - nv:]
    xtr, ytr = xtr[:len(xtr) - nv], ytr[:len(ytr) - nv]
    if a.limit_train: xtr, ytr = xtr[:a.limit_train], ytr[:a.limit_train]
    return tuple(torch.from_numpy(np.ascontiguousarray(v)) for v in (xtr, ytr, xva, yva, xte, yte))


def recipe_worker(rank, a, port, queue):
    procs = a.ddp_procs or 1
    set_threads(a.threads)
    dist = None
    if a.ddp_procs:
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel as DDP
        ddp_env(port)
        dist.init_process_group('gloo', rank=rank, world_size=procs)
    xtr, ytr, xva, yva, xte, yte = recipe_data(a)  # each process reads it (no 180 MB through pickling)
    torch.manual_seed(a.seed)
    model = make_net(init=a.init)
    net = DDP(model) if dist else model
    opt = make_opt(net.parameters(), a.lr)
    plateau = KerasPlateau(a.lr)
    aug_gen = torch.Generator().manual_seed(a.seed * 7919 + rank)
    n_train = xtr.shape[0]
    say = (lambda *s: print(*s, flush=True)) if rank == 0 else (lambda *s: None)
    say(f"recipe: torch {torch.__version__}, {'DDP gloo %d procs x ' % procs if dist else ''}{torch.get_num_threads()} "
        f"thread(s); train {n_train}, validation {xva.shape[0]}, test {xte.shape[0]}"
        f"{' (evaluated on the first %d of each)' % a.limit_eval if a.limit_eval else ''}"
        f"{'; at most %d steps an epoch' % a.limit_steps if a.limit_steps else ''}; batch {a.batch} (global); "
        f"{a.epochs} epochs; init {a.init}; augment {'flip + zoom %g' % a.zoom if a.augment else 'off'}; "
        f"ReduceLROnPlateau(0.2, patience 3) on val loss")

    def eval_split(x, y, limit):
        n = min(x.shape[0], limit) if limit else x.shape[0]
        if not dist: return evaluate(model, x, y, 0, n)
        for b in model.buffers(): dist.broadcast(b, 0)  # BN statistics as rank 0 has them
        sizes = split_sizes(n, procs); lo = sum(sizes[:rank])
        s = evaluate(model, x, y, lo, lo + sizes[rank])
        dist.all_reduce(s)
        return s

    epochs = []; t_run = time.perf_counter()
    for epoch in range(a.epochs):
        for g in opt.param_groups: g['lr'] = plateau.lr
        lr = plateau.lr
        perm = torch.randperm(n_train, generator=torch.Generator().manual_seed(a.seed * 1000003 + epoch))
        net.train()
        if dist: dist.barrier()
        t0 = time.perf_counter(); seen = 0; loss_sum = correct = 0.0; steps = 0
        for i in range(0, n_train, a.batch):
            if a.limit_steps and steps >= a.limit_steps: break
            idx = perm[i:i + a.batch]; n_global = len(idx)
            if n_global < procs: break  # a last batch too small to give every process an image
            sizes = split_sizes(n_global, procs); lo = sum(sizes[:rank])
            idx = idx[lo:lo + sizes[rank]]
            x = xtr[idx].float() / 255; y = ytr[idx]
            if a.augment: x = augment(x, aug_gen, a.zoom)
            out = net(x)
            loss = F.cross_entropy(out, y, reduction='sum') * (procs / n_global)
            opt.zero_grad(); loss.backward(); opt.step()
            loss_sum += loss.item() * n_global / procs; correct += (out.argmax(1) == y).sum().item()
            seen += n_global; steps += 1
        if dist:
            s = torch.tensor([loss_sum, correct], dtype=torch.float64); dist.all_reduce(s)
            loss_sum, correct = s.tolist()  # each rank summed its own images' losses
            dist.barrier()
        t_train = time.perf_counter() - t0
        t1 = time.perf_counter()
        vl, vc, vn = eval_split(xva, yva, a.limit_eval).tolist()
        tl, tc, tn = eval_split(xte, yte, a.limit_eval).tolist()
        t_eval = time.perf_counter() - t1
        new_lr = plateau.step(vl / vn) if vn else plateau.lr
        e = dict(epoch=epoch + 1, steps=steps, images=seen, train_s=t_train, train_img_s=seen / t_train,
                 train_loss=loss_sum / seen, train_acc=correct / seen, val_loss=vl / vn if vn else None,
                 val_acc=vc / vn if vn else None, test_loss=tl / tn, test_acc=tc / tn, eval_s=t_eval,
                 epoch_s=t_train + t_eval, lr=lr, next_lr=new_lr)
        epochs.append(e)
        say(f"epoch {epoch + 1}/{a.epochs}: train {t_train:.1f} s ({e['train_img_s']:.1f} img/s, {steps} steps),"
            f" loss {e['train_loss']:.4f} acc {e['train_acc']:.4f} | val loss {vl / vn:.4f} acc {vc / vn:.4f}"
            f" | test acc {tc / tn:.4f} | eval {t_eval:.1f} s | epoch {t_train + t_eval:.1f} s | lr {lr:g}"
            + (f" -> {new_lr:g}" if new_lr != lr else ''))
    total = time.perf_counter() - t_run
    train_total = sum(e['train_s'] for e in epochs); seen_total = sum(e['images'] for e in epochs)
    say(f"total wall {total:.1f} s (training {train_total:.1f} s, {seen_total / train_total:.1f} img/s;"
        f" evaluation {total - train_total:.1f} s); final val acc {epochs[-1]['val_acc']:.4f},"
        f" test acc {epochs[-1]['test_acc']:.4f}")
    if rank == 0 and queue is not None:
        queue.put(dict(mode='recipe', torch=torch.__version__, procs=procs, threads_per_proc=torch.get_num_threads(),
                       batch=a.batch, seed=a.seed, init=a.init, augment=a.augment, epochs=epochs, total_s=total,
                       train_s=train_total, train_img_s=seen_total / train_total))
    if dist: ddp_exit(dist)


def cmd_recipe(a):
    if a.validation < 1: sys.exit('--validation must be at least 1 (ReduceLROnPlateau watches the validation loss)')
    if a.ddp_procs:
        import torch.multiprocessing as mp
        ctx = mp.get_context('spawn'); queue = ctx.SimpleQueue()
        mp.spawn(recipe_worker, args=(a, free_port(), queue), nprocs=a.ddp_procs, join=True)
        r = queue.get()
    else:
        import queue as q_mod
        queue = q_mod.SimpleQueue()
        recipe_worker(0, a, None, queue)
        r = queue.get()
    if a.json: print(json.dumps(r), flush=True)


# ---------------------------------------------------------------------------------------------

def main():
    if len(sys.argv) > 1 and sys.argv[1] in ('keras', 'torch'):
        return legacy(sys.argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], epilog='Also, the original early-learning check: seed_cnn_torch.py keras|torch DROPOUT(0|1) STEPS [SEED [ARCHIVE]].\n'
                                       'See the header of this file for each mode.',
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)

    def common(s, steps):
        s.add_argument('--steps', type=int, default=steps, help='timed steps (default %(default)s)')
        s.add_argument('--warmup', type=int, default=5, help='untimed steps first (default %(default)s)')
        s.add_argument('--augment', action='store_true', help='include the random flip + zoom in the train step')
        s.add_argument('--init', choices=['torch', 'keras'], default='torch')
        s.add_argument('--seed', type=int, default=1)
        s.add_argument('--json', action='store_true', help='print one JSON object')

    b = sub.add_parser('bench', help='single-process train / predict img/s on random data')
    b.add_argument('--threads', type=int, default=1, help='torch.set_num_threads (default %(default)s)')
    b.add_argument('--batch', type=int, default=64)
    b.add_argument('--predict-batch', type=int, default=None, help='default: --batch')
    common(b, 30)
    b.set_defaults(fn=cmd_bench)

    d = sub.add_parser('ddp', help='DistributedDataParallel (gloo, loopback) img/s on random data')
    d.add_argument('--procs', type=int, default=2)
    d.add_argument('--threads-per-proc', type=int, default=1)
    d.add_argument('--global-batch', type=int, default=64, help='split across the processes (default %(default)s)')
    common(d, 40)
    d.set_defaults(fn=cmd_ddp)

    r = sub.add_parser('recipe', help="the tutorial's full training recipe on CIFAR-10")
    r.add_argument('--data-dir', default=os.path.join('..', 'shared', 'cifar10'))
    r.add_argument('--epochs', type=int, default=20)
    r.add_argument('--threads', type=int, default=1, help='torch threads per process (default %(default)s)')
    r.add_argument('--ddp-procs', type=int, default=0, help='train with this many DDP processes (default: one process, no DDP)')
    r.add_argument('--batch', type=int, default=64, help='global batch (default %(default)s)')
    r.add_argument('--lr', type=float, default=1e-3)
    r.add_argument('--seed', type=int, default=1)
    r.add_argument('--init', choices=['torch', 'keras'], default='torch')
    r.add_argument('--validation', type=int, default=5000, help='the last N training images (default %(default)s)')
    r.add_argument('--no-augment', dest='augment', action='store_false')
    r.add_argument('--zoom', type=float, default=0.1)
    r.add_argument('--limit-train', type=int, default=0, help='train on the first N training images only (checks)')
    r.add_argument('--limit-steps', type=int, default=0, help='at most N steps per epoch (checks)')
    r.add_argument('--limit-eval', type=int, default=0, help='evaluate on the first N validation / test images (checks)')
    r.add_argument('--json', action='store_true', help='also print one JSON object with every epoch')
    r.set_defaults(fn=cmd_recipe)

    a = p.parse_args()
    a.fn(a)


LOAD0 = os.getloadavg()
if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""gradsync's `--recipe improved` in PyTorch: the seed CNN (seed_cnn_torch.make_net) trained with
flip + random crop of the image padded by 4 (mirror padding that repeats the edge pixel, as
TensorFlow's reflect fill does), label smoothing, AdamW (decay on kernels only) or SGD+Nesterov,
and a one-cycle schedule (linear warm-up, then linear decay to 0), per step. The independent check
that the recipe reaches its accuracy; not part of the build or the tests.

  /usr/bin/python3 docs/reference/improved_cnn_torch.py --data-dir ../shared/cifar10 [--epochs 20]
      [--batch 128] [--opt adamw|sgd] [--lr 3e-3] [--wd 0.05] [--smoothing 0.1] [--warmup 0.2]
      [--bn-momentum 0.9] [--dropout-scale 1] [--threads 1] [--seed 1]
  (gradsync's preset as of this writing: --batch 64 --wd 0.01 --dropout-scale 0.5, the rest default)

Prints one line per epoch: train loss/acc, validation and test accuracy, lr, wall time.
"""
import argparse, os, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_cnn_torch import load_cifar, make_net, set_threads  # noqa: E402


def one_cycle(step, total, warmup_fraction):
    warm = round(warmup_fraction * total)
    if step < warm:
        return (step + 1) / warm
    return max(0.0, 1 - (step - warm) / max(1, total - warm))


def crop_flip(padded, idx, gen, pad=4):
    n = len(idx)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen).tolist()
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen).tolist()
    flip = (torch.rand(n, generator=gen) < 0.5).tolist()
    out = np.empty((n, 3, 32, 32), np.uint8)
    for i, j in enumerate(idx):
        img = padded[j, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        out[i] = img[:, :, ::-1] if flip[i] else img
    return torch.from_numpy(out).float() / 255


@torch.no_grad()
def accuracy(model, x, y, chunk=1000):
    model.eval()
    correct = 0
    for lo in range(0, len(x), chunk):
        logits = model(torch.from_numpy(x[lo:lo + chunk]).float() / 255)
        correct += (logits.argmax(1) == torch.from_numpy(y[lo:lo + chunk])).sum().item()
    model.train()
    return correct / len(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data-dir', default=os.path.join('..', 'shared', 'cifar10'))
    p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--opt', choices=['adamw', 'sgd'], default='adamw')
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--wd', type=float, default=0.05)
    p.add_argument('--smoothing', type=float, default=0.1)
    p.add_argument('--warmup', type=float, default=0.2)
    p.add_argument('--bn-momentum', type=float, default=0.9, help="Keras' convention (torch momentum = 1 - this)")
    p.add_argument('--dropout-scale', type=float, default=1.0, help="the tutorial's dropout rates (0.25, 0.25, 0.5) times this")
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--validation', type=int, default=5000)
    a = p.parse_args()
    set_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    x, y, tx, ty = load_cifar(a.data_dir)
    vx, vy, x, y = x[-a.validation:], y[-a.validation:], x[:-a.validation], y[:-a.validation]
    padded = np.pad(x, ((0, 0), (0, 0), (4, 4), (4, 4)), mode='symmetric')
    model = make_net(d1=0.25 * a.dropout_scale, d2=0.5 * a.dropout_scale)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 1 - a.bn_momentum
    decay = [q for q in model.parameters() if q.dim() >= 2]
    rest = [q for q in model.parameters() if q.dim() < 2]
    groups = [{'params': decay, 'weight_decay': a.wd}, {'params': rest, 'weight_decay': 0.0}]
    if a.opt == 'adamw':
        opt = torch.optim.AdamW(groups, lr=a.lr, eps=1e-7)
    else:
        opt = torch.optim.SGD(groups, lr=a.lr, momentum=0.9, nesterov=True)
    steps = (len(x) + a.batch - 1) // a.batch
    total = steps * a.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: one_cycle(s, total, a.warmup))
    print(f'torch {torch.__version__}, {a}', flush=True)
    t0 = time.time()
    for epoch in range(a.epochs):
        te = time.time()
        perm = torch.randperm(len(x), generator=gen).numpy()
        loss_sum = correct = seen = 0
        for s in range(steps):
            idx = perm[s * a.batch:(s + 1) * a.batch]
            xb = crop_flip(padded, idx, gen)
            yb = torch.from_numpy(y[idx])
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=a.smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx); correct += (logits.argmax(1) == yb).sum().item(); seen += len(idx)
        train_sec = time.time() - te
        print(f'epoch {epoch + 1}/{a.epochs}: train loss {loss_sum / seen:.4f} acc {correct / seen:.4f} | '
              f'val acc {accuracy(model, vx, vy):.4f} | test acc {accuracy(model, tx, ty):.4f} | '
              f'lr {opt.param_groups[0]["lr"]:.2e} | train {train_sec:.0f} s', flush=True)
    print(f'total {time.time() - t0:.0f} s', flush=True)


if __name__ == '__main__':
    main()

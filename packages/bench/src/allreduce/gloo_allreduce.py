"""PyTorch's gloo all-reduce, timed the way bench-allreduce.ts times gradsync's.

Run by bench-allreduce.ts (gloo-anchor.ts) with Debian's python3-torch, in the same run as
gradsync's figures, so that each ratio compares like with like on one machine:

    python3 gloo_allreduce.py --world 2 --sizes 65536,676264 --warmup 50 --repeats 30 --gap-ms 0

Each rank is its own process (torch.multiprocessing), the group rendezvous over 127.0.0.1. Per
timed operation: a 1-element all-reduce (a barrier), then the timed one; its time is the last
rank's end minus the first rank's start on the machine's shared clock, as in bench-process.ts.
Inputs are the same exactly representable values, and rank 0 checks the exact sum. Prints one
JSON object per size on stdout.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time


def fill(n, rank, torch):
    i = torch.arange(n, dtype=torch.int64)
    return (((i * 7 + rank * 13) % 101) - 50).to(torch.float32) / 64


def cpu_ms():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return (u.ru_utime + u.ru_stime) * 1000.0


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def rank_main(rank, args, port, queue):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=args.world)
    barrier = torch.zeros(1)
    for size in args.sizes:
        n = size // 4
        x = fill(n, rank, torch)
        data = torch.empty(n)
        times, cpus, faults = [], [], []
        exact = True
        for rep in range(args.warmup + args.repeats):
            if args.gap_ms > 0:
                time.sleep(args.gap_ms / 1000.0)
            data.copy_(x)
            dist.all_reduce(barrier)
            c0, f0, t0 = cpu_ms(), minor_faults(), time.time()
            dist.all_reduce(data)
            t1 = time.time()
            if rep == 0:
                expected = sum(fill(n, r, torch) for r in range(args.world))
                exact = bool(torch.equal(data, expected))
            if rep >= args.warmup:
                times.append((t0 * 1000.0, t1 * 1000.0))
                cpus.append(cpu_ms() - c0)
                faults.append(minor_faults() - f0)
        queue.put({"rank": rank, "bytes": size, "times": times, "cpu": cpus, "faults": faults, "exact": exact})
    dist.destroy_process_group()


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", type=int, default=2)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], required=True)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--gap-ms", type=float, default=0)
    args = parser.parse_args()
    for size in args.sizes:
        if size <= 0 or size % 4 != 0:
            sys.exit(f"sizes must be positive multiples of 4 bytes, got {size}")

    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=rank_main, args=(r, args, port, queue)) for r in range(args.world)]
    for p in procs:
        p.start()
    reports = {}
    for _ in range(args.world * len(args.sizes)):
        r = queue.get(timeout=600)
        reports.setdefault(r["bytes"], []).append(r)
    for p in procs:
        p.join(timeout=60)
        if p.exitcode != 0:
            sys.exit(f"a gloo rank exited with {p.exitcode}")
    for size in args.sizes:
        ranks = sorted(reports[size], key=lambda r: r["rank"])
        per_op = [
            max(r["times"][i][1] for r in ranks) - min(r["times"][i][0] for r in ranks) for i in range(args.repeats)
        ]
        cpu = [sum(r["cpu"][i] for r in ranks) for i in range(args.repeats)]
        faults = [sum(r["faults"][i] for r in ranks) for i in range(args.repeats)]
        print(
            json.dumps(
                {
                    "bytes": size,
                    "world": args.world,
                    "medianMs": statistics.median(per_op),
                    "cpuMsPerOp": statistics.median(cpu),
                    "minorFaultsPerOp": statistics.median(faults),
                    "verified": all(r["exact"] for r in ranks),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()

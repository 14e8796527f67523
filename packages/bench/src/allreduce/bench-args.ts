// The all-reduce benchmark's command line (bench-allreduce.ts runs it).
import { GradsyncError } from '@gradsync/core';
import type { BenchOptions } from './bench-table';

const KiB = 1024;
const MiB = 1024 * KiB;

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new GradsyncError('E_BENCH_ARG', `cannot read size ${JSON.stringify(text)} (try 64K, 16M)`);
  const unit = { '': 1, K: KiB, M: MiB, G: 1024 * MiB }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * unit);
}

export function parseArgs(argv: string[]): BenchOptions & { json: boolean } {
  const options: BenchOptions & { json: boolean } = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new GradsyncError('E_BENCH_ARG', `${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--quick':
        options.quick = true;
        break;
      case '--json':
        options.json = true;
        break;
      case '--mask':
        options.maskFrames = true;
        break;
      case '--tls':
        options.tlsRing = true;
        break;
      case '--ring-ceiling':
        options.ringCeiling = true;
        break;
      case '--no-raw':
        options.raw = false;
        break;
      case '--no-cold':
        options.cold = false;
        break;
      case '--no-gloo':
        options.gloo = false;
        break;
      case '--gap':
        options.gapMs = Number(value());
        break;
      case '--wire-dtype':
        options.wireDtypes = value()
          .split(',')
          .map((w) => {
            if (w !== 'bf16' && w !== 'fp16')
              throw new GradsyncError('E_BENCH_ARG', `--wire-dtype takes bf16 and/or fp16 (float32 is the plain ring), got ${JSON.stringify(w)}`);
            return w;
          });
        break;
      case '--sizes':
        options.sizesBytes = value().split(',').map(parseSize);
        break;
      case '--worlds':
        options.worlds = value().split(',').map(Number);
        break;
      case '--algorithms':
        options.algorithms = value().split(',') as ('ring' | 'halving-doubling' | 'star')[];
        break;
      case '--segment':
        options.segmentBytes = parseSize(value());
        break;
      case '--repeats':
        options.repeats = Number(value());
        break;
      case '--warmup':
        options.warmup = Number(value());
        break;
      default:
        throw new GradsyncError('E_BENCH_ARG', `unknown option ${arg}`);
    }
  }
  return options;
}

/**
 * `pnpm start --quick`: a first run that finishes while the user watches. Two local workers train
 * the tutorial's network for a few epochs on a CIFAR-10 subset; without network access to the
 * CIFAR-10 host (and nothing in the cache) it trains on make-synthetic data instead, and says so.
 */
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import { defaultRunName } from '@gradsync/train';
import { defaultCacheDir, ensureCachedArchive, makeSyntheticCifar10, writeCifar10Binary } from '@gradsync/data';

/** What --quick changes, by commander option name; flags given on the command line win. */
export function quickRunPreset(now = new Date()): Record<string, unknown> {
  return {
    workers: 2,
    epochs: 3,
    limitTrain: 10_000,
    // PyTorch's BatchNorm momentum: with the tutorial's 0.99 the moving statistics still trail the
    // weights after a quick run's 470 steps (measured, 2 workers: validation 14%, 16%, 40% after
    // epochs 1-3, against 38%, 44%, 47% with 0.9).
    bnMomentum: 0.9,
    runName: defaultRunName('quick', now),
  };
}

/** The preset's values for every option the user did not set on the command line. */
export function quickRunOverrides(preset: Record<string, unknown>, givenOnCommandLine: (option: string) => boolean): Record<string, unknown> {
  return Object.fromEntries(Object.entries(preset).filter(([option]) => !givenOnCommandLine(option)));
}

/** The synthetic stand-in's size: enough for 10,000 training images after the 10% validation split. */
export const QUICK_SYNTHETIC = { train: 11_000, test: 2_000, seed: 1 } as const;

export type QuickRunData = { dataDir: string; synthetic: boolean };

/**
 * Where the quick run's data comes from: --data-dir, else the cached (or freshly downloaded)
 * CIFAR-10 archive, else synthetic images written once into the cache.
 */
export async function quickRunData(o: { dataDir?: string; cacheDir?: string; log: (level: 'info' | 'warn', line: string) => void }): Promise<QuickRunData> {
  if (o.dataDir !== undefined) return { dataDir: o.dataDir, synthetic: false };
  const cacheDir = path.resolve(o.cacheDir ?? defaultCacheDir());
  try {
    const archive = await ensureCachedArchive(cacheDir, {}, (line) => o.log('info', line));
    return { dataDir: archive.path, synthetic: false };
  } catch (err) {
    if (!(err instanceof GradsyncError) || err.code !== 'DATA_DOWNLOAD_FAILED') throw err;
    const syntheticDir = path.join(cacheDir, `synthetic-quick-${QUICK_SYNTHETIC.train}-${QUICK_SYNTHETIC.test}-seed${QUICK_SYNTHETIC.seed}`);
    o.log(
      'warn',
      `${err.message}.\n  The quick run goes on with synthetic images instead (coloured, striped squares of 10 classes, as ` +
        '`pnpm make-synthetic` writes): it shows the system working, its accuracy says nothing about CIFAR-10. For the real data: ' +
        `copy cifar-10-binary.tar.gz into ${cacheDir}, or pass --data-dir DIR, or set GRADSYNC_CIFAR10_URL to a mirror.`,
    );
    if (!existsSync(syntheticDir)) {
      // Written beside, then renamed: an interrupted write is never taken for the data set.
      const partial = `${syntheticDir}.${process.pid}.part`;
      await writeCifar10Binary(partial, makeSyntheticCifar10(QUICK_SYNTHETIC));
      await rename(partial, syntheticDir).catch(async (renameErr: NodeJS.ErrnoException) => {
        await rm(partial, { recursive: true, force: true });
        if (!existsSync(syntheticDir)) throw renameErr; // else another quick run wrote it first
      });
    }
    o.log('info', `synthetic data: ${syntheticDir}`);
    return { dataDir: syntheticDir, synthetic: true };
  }
}

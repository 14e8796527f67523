/** Loading CIFAR-10: from --data-dir, else from the cache, else by downloading the official archive. */
import { resolve } from 'node:path';
import { ensureCachedArchive, defaultCacheDir, type DownloadOptions } from './download';
import { readCifar10Binary } from './read-binary';
import type { Cifar10 } from './types';

export interface LoadCifar10Options {
  /** A folder with the binary batches (.bin or .bin.gz), a folder holding the archive, or the archive's path. */
  dataDir?: string;
  /** Where the downloaded archive is kept; default `$XDG_CACHE_HOME/gradsync` or `~/.cache/gradsync`. */
  cacheDir?: string;
  download?: DownloadOptions;
  log?: (line: string) => void;
  /** Training files data_batch_1..N expected in dataDir; default 5 (the official set). */
  trainFiles?: number;
}

export async function loadCifar10(options: LoadCifar10Options = {}): Promise<Cifar10> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  let data: Cifar10;
  if (options.dataDir !== undefined) {
    data = await readCifar10Binary(options.dataDir, { trainFiles: options.trainFiles });
  } else {
    const cacheDir = resolve(options.cacheDir ?? defaultCacheDir());
    const { path, downloaded } = await ensureCachedArchive(cacheDir, options.download, log);
    data = await readCifar10Binary(path);
    data.source = `${downloaded ? 'downloaded' : 'cached'} ${data.source}`;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  log(`loaded CIFAR-10 in ${seconds} s from ${data.source}`);
  return data;
}

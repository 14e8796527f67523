/**
 * The official archive in a local cache: download (with a progress bar on stderr) to a temporary
 * file, check its MD5, rename it into place; reuse it next time after checking it again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { GradsyncError } from '@gradsync/core';
import { ARCHIVE_FILE_NAME } from './types';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';

export interface DownloadOptions {
  url?: string;
  md5?: string;
  fetchImpl?: typeof fetch;
  /** Give up when the server has not answered (response headers) within this time; default 15 s. */
  connectTimeoutMs?: number;
  /** Give up when no bytes arrive for this long during the transfer; default 60 s. */
  idleTimeoutMs?: number;
  /** Where the progress bar goes; default process.stderr. */
  progressStream?: NodeJS.WritableStream;
}

/** `$XDG_CACHE_HOME/gradsync`, else `~/.cache/gradsync`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg && isAbsolute(xdg) ? join(xdg, 'gradsync') : join(homedir(), '.cache', 'gradsync');
}

/** MD5 (hex) of a file, streamed. */
export async function fileMd5(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Returns the path of a checked `cifar-10-binary.tar.gz` in `cacheDir`, downloading it first when
 * it is absent (or fails its check).
 */
export async function ensureCachedArchive(
  cacheDir: string,
  options: DownloadOptions = {},
  log: (line: string) => void = () => {},
): Promise<{ path: string; downloaded: boolean }> {
  // GRADSYNC_CIFAR10_URL: a mirror inside a network that cannot reach the official host.
  const url = options.url ?? (process.env.GRADSYNC_CIFAR10_URL || CIFAR10_URL);
  const expectedMd5 = (options.md5 ?? CIFAR10_MD5).toLowerCase();
  const path = join(cacheDir, ARCHIVE_FILE_NAME);
  if (await exists(path)) {
    const md5 = await fileMd5(path);
    if (md5 === expectedMd5) {
      log(`using cached ${path} (md5 ${md5} ok)`);
      return { path, downloaded: false };
    }
    log(`cached ${path} has md5 ${md5}, expected ${expectedMd5}: deleting it and downloading again`);
    await rm(path, { force: true });
  }
  await mkdir(cacheDir, { recursive: true });
  const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
  try {
    log(`downloading ${url} to ${path}`);
    const md5 = await downloadTo(url, partial, options);
    if (md5 !== expectedMd5) {
      throw new GradsyncError(
        'DATA_CHECKSUM_MISMATCH',
        `the file downloaded from ${url} has md5 ${md5}, expected ${expectedMd5}; it was deleted. ` +
          `Try again, or fetch ${ARCHIVE_FILE_NAME} yourself and pass --data-dir`,
      );
    }
    await rename(partial, path);
    log(`downloaded ${path} (md5 ${md5} ok)`);
    return { path, downloaded: true };
  } finally {
    await rm(partial, { force: true });
  }
}

/** Streams `url` into `dest`; returns the md5 of the bytes written. */
async function downloadTo(url: string, dest: string, options: DownloadOptions): Promise<string> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(new Error(`no answer within ${connectTimeoutMs / 1000} s`)), connectTimeoutMs);
  const bar = new SingleBar({
    stream: options.progressStream ?? process.stderr,
    format: 'CIFAR-10 download [{bar}] {percentage}% | {received}/{size} MB | {speed} MB/s | ETA {eta_formatted}',
    noTTYOutput: true,
    notTTYSchedule: 10_000,
    hideCursor: false,
    barsize: 30,
  });
  let barStarted = false;
  try {
    let response: Response;
    try {
      response = await fetchImpl(url, { signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      throw networkError(url, err);
    }
    if (!response.ok || !response.body) {
      throw new GradsyncError(
        'DATA_DOWNLOAD_FAILED',
        `downloading ${url} failed: HTTP ${response.status} ${response.statusText}. ` + `Fetch ${ARCHIVE_FILE_NAME} yourself and pass --data-dir`,
      );
    }
    const length = Number(response.headers.get('content-length'));
    const total = Number.isFinite(length) && length > 0 ? length : 0;
    const hash = createHash('md5');
    const started = Date.now();
    let received = 0;
    const megabytes = (n: number) => (n / 1e6).toFixed(1);
    const payload = () => ({
      received: megabytes(received),
      size: total ? megabytes(total) : '?',
      speed: megabytes(received / Math.max(0.001, (Date.now() - started) / 1000)),
    });
    bar.start(total || 1, 0, payload());
    barStarted = true;
    const file = await open(dest, 'w');
    try {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new Error(`no data for ${idleTimeoutMs / 1000} s`)), idleTimeoutMs);
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        timer.refresh();
        hash.update(chunk);
        await file.write(chunk);
        received += chunk.length;
        if (!total) bar.setTotal(received);
        bar.update(received, payload());
      }
    } catch (err) {
      if (err instanceof GradsyncError) throw err;
      throw networkError(url, err, received);
    } finally {
      await file.close();
    }
    if (total && received !== total) {
      throw new GradsyncError(
        'DATA_DOWNLOAD_FAILED',
        `downloading ${url} stopped after ${received} of ${total} bytes. Try again, or fetch ${ARCHIVE_FILE_NAME} yourself and pass --data-dir`,
      );
    }
    return hash.digest('hex');
  } finally {
    clearTimeout(timer);
    if (barStarted) bar.stop();
  }
}

function networkError(url: string, err: unknown, received?: number): GradsyncError {
  const cause = (err as { cause?: unknown })?.cause;
  const reason = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err ?? 'unknown error');
  const where = received === undefined ? '' : ` after ${received} bytes`;
  return new GradsyncError(
    'DATA_DOWNLOAD_FAILED',
    `cannot download CIFAR-10 from ${url}${where} (${reason}). Without network access, copy ` +
      `${ARCHIVE_FILE_NAME} (or the extracted binary batches) to this machine and pass --data-dir DIR`,
    { cause: err },
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GradsyncError } from '@gradsync/core';
import { defaultCacheDir, ensureCachedArchive, fileMd5 } from './download';
import { makeSyntheticCifar10 } from './synthetic';
import { writeCifar10Archive } from './write-binary';

let root: string;
let archive: Buffer;
let md5: string;
let server: Server;
let baseUrl: string;
const requests: string[] = [];
let n = 0;
const freshCache = () => join(root, `cache-${n++}`);

/** A writable that keeps what the progress bar prints. */
function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

async function rejection(promise: Promise<unknown>): Promise<GradsyncError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GradsyncError);
    return err as GradsyncError;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gradsync-download-'));
  const archivePath = join(root, 'served', 'cifar-10-binary.tar.gz');
  await writeCifar10Archive(archivePath, makeSyntheticCifar10({ train: 10, test: 5, seed: 3 }));
  archive = await readFile(archivePath);
  md5 = createHash('md5').update(archive).digest('hex');
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/cifar-10-binary.tar.gz') {
      res.writeHead(200, { 'content-length': archive.length, 'content-type': 'application/gzip' });
      // two writes, so the body arrives in more than one chunk
      res.write(archive.subarray(0, 1000));
      res.end(archive.subarray(1000));
    } else if (req.url === '/silent') {
      // accept the connection, never answer
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

describe('ensureCachedArchive', () => {
  it('downloads with a progress bar, checks the md5, then reuses the cached file', async () => {
    const cacheDir = freshCache();
    const url = `${baseUrl}/cifar-10-binary.tar.gz`;
    const progress = capture();
    const lines: string[] = [];
    const before = requests.length;
    const first = await ensureCachedArchive(cacheDir, { url, md5, progressStream: progress.stream }, (l) => lines.push(l));
    expect(first).toEqual({ path: join(cacheDir, 'cifar-10-binary.tar.gz'), downloaded: true });
    expect(await fileMd5(first.path)).toBe(md5);
    expect(await readdir(cacheDir)).toEqual(['cifar-10-binary.tar.gz']);
    expect(progress.text()).toContain('CIFAR-10 download');
    expect(progress.text()).toContain('100%');
    expect(requests.length).toBe(before + 1);

    const second = await ensureCachedArchive(cacheDir, { url, md5 }, (l) => lines.push(l));
    expect(second.downloaded).toBe(false);
    expect(requests.length).toBe(before + 1);
    expect(lines.some((l) => l.startsWith('using cached') && l.includes(md5))).toBe(true);
  });

  it('downloads again when the cached file fails its check', async () => {
    const cacheDir = freshCache();
    const url = `${baseUrl}/cifar-10-binary.tar.gz`;
    await ensureCachedArchive(cacheDir, { url, md5, progressStream: capture().stream });
    await writeFile(join(cacheDir, 'cifar-10-binary.tar.gz'), 'damaged');
    const again = await ensureCachedArchive(cacheDir, { url, md5, progressStream: capture().stream });
    expect(again.downloaded).toBe(true);
    expect(await fileMd5(again.path)).toBe(md5);
  });

  it('deletes a download whose md5 does not match and says so', async () => {
    const cacheDir = freshCache();
    const url = `${baseUrl}/cifar-10-binary.tar.gz`;
    const wrong = '0'.repeat(32);
    const err = await rejection(ensureCachedArchive(cacheDir, { url, md5: wrong, progressStream: capture().stream }));
    expect(err.code).toBe('DATA_CHECKSUM_MISMATCH');
    expect(err.message).toContain(`has md5 ${md5}, expected ${wrong}`);
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it('fails fast on an unreachable host, naming --data-dir', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const cacheDir = freshCache();
    const err = await rejection(ensureCachedArchive(cacheDir, { url: `http://127.0.0.1:${port}/x.tar.gz` }));
    expect(err.code).toBe('DATA_DOWNLOAD_FAILED');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).toContain('--data-dir');
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it('reports a DNS failure from the injected fetch, naming --data-dir', async () => {
    const fetchImpl = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND www.cs.toronto.edu') });
    }) as unknown as typeof fetch;
    const err = await rejection(ensureCachedArchive(freshCache(), { fetchImpl }));
    expect(err.message).toContain('https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz');
    expect(err.message).toContain('ENOTFOUND');
    expect(err.message).toContain('--data-dir');
  });

  it('gives up on a server that does not answer', async () => {
    const started = Date.now();
    const err = await rejection(ensureCachedArchive(freshCache(), { url: `${baseUrl}/silent`, connectTimeoutMs: 200 }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.message).toContain('no answer within 0.2 s');
    expect(err.message).toContain('--data-dir');
  });

  it('reports an HTTP error status', async () => {
    const err = await rejection(ensureCachedArchive(freshCache(), { url: `${baseUrl}/missing` }));
    expect(err.message).toContain('HTTP 404');
  });
});

describe('defaultCacheDir', () => {
  it('follows XDG_CACHE_HOME, else ~/.cache', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/gradsync');
    expect(defaultCacheDir({})).toMatch(/\.cache\/gradsync$/);
  });
});

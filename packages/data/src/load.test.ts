import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitChecksum } from './checksum';
import { loadCifar10 } from './load';
import { makeSyntheticCifar10 } from './synthetic';
import { writeCifar10Archive, writeCifar10Binary } from './write-binary';

const data = makeSyntheticCifar10({ train: 15, test: 4, seed: 21 });
const silent = new Writable({ write: (_c, _e, done) => done() });
let root: string;
let server: Server;
let url: string;
let md5: string;
let served = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gradsync-load-'));
  const archivePath = join(root, 'served.tar.gz');
  await writeCifar10Archive(archivePath, data);
  const archive = await readFile(archivePath);
  md5 = createHash('md5').update(archive).digest('hex');
  server = createServer((_req, res) => {
    served++;
    res.writeHead(200, { 'content-length': archive.length }).end(archive);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cifar-10-binary.tar.gz`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

describe('loadCifar10', () => {
  it('reads --data-dir', async () => {
    const dir = join(root, 'data');
    await writeCifar10Binary(dir, data, { gzip: true });
    const lines: string[] = [];
    const got = await loadCifar10({ dataDir: dir, log: (l) => lines.push(l) });
    expect(splitChecksum(got.train)).toBe(splitChecksum(data.train));
    expect(splitChecksum(got.test)).toBe(splitChecksum(data.test));
    expect(lines.at(-1)).toMatch(/^loaded CIFAR-10 in [\d.]+ s from /);
  });

  it('downloads into the cache, then loads from the cache without the network', async () => {
    const cacheDir = join(root, 'cache');
    const download = { url, md5, progressStream: silent };
    const first = await loadCifar10({ cacheDir, download });
    expect(first.source).toMatch(/^downloaded archive /);
    expect(splitChecksum(first.train)).toBe(splitChecksum(data.train));
    const fetchImpl = (async () => {
      throw new Error('the network must not be used');
    }) as unknown as typeof fetch;
    const second = await loadCifar10({ cacheDir, download: { ...download, fetchImpl } });
    expect(second.source).toMatch(/^cached archive /);
    expect(splitChecksum(second.test)).toBe(splitChecksum(data.test));
    expect(served).toBe(1);
  });
});

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { create as tarCreate } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTarEntries } from './tar-entries';

let root: string;
let tgz: string;
let tarPath: string;
const big = new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gradsync-tar-'));
  await mkdir(join(root, 'src', 'folder'), { recursive: true });
  await writeFile(join(root, 'src', 'folder', 'big.bin'), big);
  await writeFile(join(root, 'src', 'folder', 'small.txt'), 'hello');
  await writeFile(join(root, 'src', 'folder', 'skip.html'), '<p>');
  tgz = join(root, 'a.tar.gz');
  tarPath = join(root, 'a.tar');
  await tarCreate({ gzip: true, file: tgz, cwd: join(root, 'src'), portable: true }, ['folder']);
  await tarCreate({ file: tarPath, cwd: join(root, 'src'), portable: true }, ['folder']);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('readTarEntries', () => {
  for (const kind of ['gzipped', 'plain'] as const) {
    it(`keeps the wanted entries of a ${kind} tar and lists all files`, async () => {
      const { files, allFiles } = await readTarEntries(kind === 'gzipped' ? tgz : tarPath, (p) => !p.endsWith('.html'));
      expect(allFiles.sort()).toEqual(['folder/big.bin', 'folder/skip.html', 'folder/small.txt']);
      expect([...files.keys()].sort()).toEqual(['folder/big.bin', 'folder/small.txt']);
      expect(Buffer.compare(files.get('folder/big.bin')!, big)).toBe(0);
      expect(new TextDecoder().decode(files.get('folder/small.txt'))).toBe('hello');
    });
  }

  it('rejects a cut gzip stream, naming the file', async () => {
    const cut = join(root, 'cut.tar.gz');
    const bytes = await readFile(tgz);
    await writeFile(cut, bytes.subarray(0, bytes.length - 30));
    await expect(readTarEntries(cut, () => true)).rejects.toThrow(`${cut}: truncated or corrupt archive`);
  });

  it('rejects a tar cut inside an entry or between entries', async () => {
    const plain = gunzipSync(await readFile(tgz));
    const insideEntry = join(root, 'inside.tar');
    await writeFile(insideEntry, plain.subarray(0, 4 * 512));
    await expect(readTarEntries(insideEntry, () => true)).rejects.toThrow(/truncated or corrupt archive/);
    const withoutEnd = join(root, 'no-end.tar');
    await writeFile(withoutEnd, plain.subarray(0, plain.length - 1024));
    await expect(readTarEntries(withoutEnd, () => true)).rejects.toThrow(/end-of-archive marker/);
  });

  it('rejects a file that is not a tar, and a missing file', async () => {
    const junk = join(root, 'junk.tar.gz');
    await writeFile(junk, 'definitely not a tar archive '.repeat(100));
    await expect(readTarEntries(junk, () => true)).rejects.toThrow(/truncated or corrupt archive/);
    await expect(readTarEntries(join(root, 'none.tar.gz'), () => true)).rejects.toThrow(/does not exist/);
  });
});

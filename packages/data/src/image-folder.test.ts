import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSharp } from './image-decode';
import { isImageFolder, listImageFolder, readImageFolder } from './image-folder';

/** Each class one solid colour, so a label can be checked against its pixels after any resize. */
const COLOURS: Record<string, [number, number, number]> = { cat: [220, 40, 40], ant: [40, 200, 60], dog: [30, 60, 210] };

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'gradsync-image-folder-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function rgba(width: number, height: number, [r, g, b]: [number, number, number]): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set([r, g, b, 255], p * 4);
  return data;
}

function writeImage(file: string, width: number, height: number, colour: [number, number, number]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const data = rgba(width, height, colour);
  if (file.endsWith('.png')) {
    const png = new PNG({ width, height });
    data.copy(png.data);
    writeFileSync(file, PNG.sync.write(png));
  } else {
    writeFileSync(file, jpeg.encode({ data, width, height }, 95).data);
  }
}

/** A fresh folder under the test's root. */
function folder(name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** train/ and test/ of three classes, PNG and JPEG, odd sizes. */
function trainTestFixture(name: string): string {
  const dir = folder(name);
  for (const [cls, colour] of Object.entries(COLOURS)) {
    writeImage(path.join(dir, 'train', cls, 'a.png'), 13, 9, colour);
    writeImage(path.join(dir, 'train', cls, 'b.jpg'), 7, 11, colour);
    writeImage(path.join(dir, 'train', cls, 'c.JPEG'), 21, 17, colour);
    writeImage(path.join(dir, 'test', cls, 'd.png'), 5, 5, colour);
  }
  writeFileSync(path.join(dir, 'train', 'cat', 'notes.txt'), 'not an image');
  return dir;
}

const decoders = loadSharp() ? (['sharp', 'js'] as const) : (['js'] as const);

describe.each(decoders)('an image folder, decoded by %s', (decoder) => {
  it('reads train/ and test/: classes sorted by name, resized once, each label matching its pixels', async () => {
    const dir = trainTestFixture(`tt-${decoder}`);
    expect(isImageFolder(dir)).toBe(true);
    let progress = 0;
    const data = await readImageFolder(dir, { imageSize: { height: 8, width: 10 }, decoder, onProgress: (done) => (progress = done) });
    expect(data.classNames).toEqual(['ant', 'cat', 'dog']);
    expect(data.shape).toEqual({ height: 8, width: 10, channels: 3 });
    expect([data.train.count, data.test.count]).toEqual([9, 3]);
    expect(data.train.images.length).toBe(9 * 8 * 10 * 3);
    expect(progress).toBe(12);
    for (const split of [data.train, data.test]) {
      for (let i = 0; i < split.count; i++) {
        const colour = COLOURS[data.classNames[split.labels[i]!]!]!;
        const pixel = split.images.subarray(i * 240, i * 240 + 3);
        // JPEG is lossy: within a few levels of the colour written.
        for (let c = 0; c < 3; c++) expect(Math.abs(pixel[c]! - colour[c]!)).toBeLessThanOrEqual(6);
      }
    }
    expect(data.source).toMatch(/1 files that are not .png or .jpg skipped/);
  });

  it('finds greyscale by itself, and --channels forces either way', async () => {
    const dir = folder(`grey-${decoder}`);
    for (const [cls, v] of [
      ['dark', 30],
      ['light', 220],
    ] as const) {
      for (const f of ['1.png', '2.png', '3.jpg', '4.png', '5.png']) writeImage(path.join(dir, cls, f), 6, 4, [v, v, v]);
    }
    const grey = await readImageFolder(dir, { decoder });
    expect(grey.shape).toEqual({ height: 4, width: 6, channels: 1 });
    expect(grey.train.count + grey.test.count).toBe(10);
    expect(grey.train.images.length).toBe(grey.train.count * 24);
    const colour = await readImageFolder(dir, { decoder, channels: 3 });
    expect(colour.shape.channels).toBe(3);
    const forcedGrey = await readImageFolder(trainTestFixture(`forced-${decoder}`), { decoder, channels: 1, imageSize: { height: 4, width: 4 } });
    expect(forcedGrey.shape.channels).toBe(1);
    // cat's red (220, 40, 40) as BT.601 luma.
    const cat = forcedGrey.train.labels.indexOf(1);
    expect(Math.abs(forcedGrey.train.images[cat * 16]! - Math.round(0.299 * 220 + 0.587 * 40 + 0.114 * 40))).toBeLessThanOrEqual(4);
  });

  it('names the two files when sizes differ and no --image-size is given', async () => {
    await expect(readImageFolder(trainTestFixture(`mixed-${decoder}`), { decoder })).rejects.toThrow(/is \d+×\d+ but .* is \d+×\d+; give --image-size HxW/);
  });

  it('names an unreadable image', async () => {
    const dir = trainTestFixture(`corrupt-${decoder}`);
    writeFileSync(
      path.join(dir, 'train', 'dog', 'broken.png'),
      Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('this is not the rest of a PNG')]),
    );
    await expect(readImageFolder(dir, { decoder, imageSize: { height: 8, width: 8 } })).rejects.toThrow(/broken\.png: not a readable PNG or JPEG image/);
    writeFileSync(path.join(dir, 'train', 'dog', 'broken.png'), 'GIF89a, not a PNG at all');
    await expect(readImageFolder(dir, { decoder, imageSize: { height: 8, width: 8 } })).rejects.toThrow(/broken\.png: not a readable PNG or JPEG image/);
  });
});

describe('the layout and its mistakes', () => {
  it('one tree: a seeded share of each class held out, the same for the same seed', () => {
    const dir = folder('one-tree');
    for (const cls of ['b', 'a']) for (let i = 0; i < 8; i++) writeImage(path.join(dir, cls, `${i}.png`), 2, 2, [i, i, i]);
    const first = listImageFolder(dir, { testFraction: 0.25, seed: 3 });
    expect(first.layout).toBe('one tree');
    expect(first.classNames).toEqual(['a', 'b']);
    expect(first.test.filter((e) => e.label === 0)).toHaveLength(2);
    expect(first.train).toHaveLength(12);
    const trainFiles = new Set(first.train.map((e) => e.file));
    expect(first.test.some((e) => trainFiles.has(e.file))).toBe(false);
    expect(listImageFolder(dir, { testFraction: 0.25, seed: 3 })).toEqual(first);
    const other = listImageFolder(dir, { testFraction: 0.25, seed: 4 });
    expect(other.test.map((e) => e.file)).not.toEqual(first.test.map((e) => e.file));
  });

  it('an empty class folder, a class only in test/, no test/, one class, no folder', () => {
    const empty = trainTestFixture('empty-class');
    mkdirSync(path.join(empty, 'train', 'eel'));
    expect(() => listImageFolder(empty)).toThrow(/the class folder "eel" has no .png or .jpg images/);

    const onlyTest = trainTestFixture('only-test');
    writeImage(path.join(onlyTest, 'test', 'fox', 'x.png'), 5, 5, [1, 2, 3]);
    expect(() => listImageFolder(onlyTest)).toThrow(/class "fox" is in test\/ but not in train\//);

    const noTest = trainTestFixture('no-test');
    rmSync(path.join(noTest, 'test'), { recursive: true });
    expect(() => listImageFolder(noTest)).toThrow(/has train\/ but no test\/ folder/);

    const single = folder('single');
    writeImage(path.join(single, 'only', 'x.png'), 2, 2, [1, 1, 1]);
    expect(() => listImageFolder(single)).toThrow(/1 class folder; a classifier needs 2 or more/);
    expect(() => listImageFolder(path.join(root, 'nowhere'))).toThrow(/no such folder/);
    expect(isImageFolder(path.join(root, 'nowhere'))).toBe(false);
  });

  it('more than 256 classes: 16-bit labels', async () => {
    const dir = folder('many');
    const names = Array.from({ length: 300 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    for (const [i, name] of names.entries()) {
      writeImage(path.join(dir, 'train', name, 'x.png'), 2, 2, [i % 256, 0, 0]);
      writeImage(path.join(dir, 'test', name, 'y.png'), 2, 2, [i % 256, 0, 0]);
    }
    const data = await readImageFolder(dir);
    expect(data.classNames).toHaveLength(300);
    expect(data.train.labels).toBeInstanceOf(Uint16Array);
    expect(data.train.labels[299]).toBe(299);
    expect(data.train.images[299 * 12]).toBe(299 % 256);
  });
});

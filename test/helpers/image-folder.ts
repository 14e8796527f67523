/** An image folder to train on: three colour classes, PNG and JPEG, odd sizes (the fixture of the own-data and own-model tests). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { mulberry32 } from '@gradsync/core';
import { tempDir } from './runs';

/** Three classes a tiny CNN tells apart in a few epochs: a colour each, plus noise. */
export const CLASSES: Record<string, [number, number, number]> = { tomato: [210, 60, 50], leaf: [60, 190, 70], sky: [70, 110, 220] };

function writeImage(file: string, width: number, height: number, colour: [number, number, number], random: () => number): void {
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + c] = Math.max(0, Math.min(255, colour[c]! + Math.round((random() - 0.5) * 90)));
    data[p * 4 + 3] = 255;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  if (file.endsWith('.png')) {
    const png = new PNG({ width, height });
    data.copy(png.data);
    writeFileSync(file, PNG.sync.write(png));
  } else {
    writeFileSync(file, jpeg.encode({ data, width, height }, 90).data);
  }
}

export function imageFolder(): string {
  const dir = tempDir('own-images');
  const random = mulberry32(11);
  for (const [split, count] of [
    ['train', 40],
    ['test', 8],
  ] as const) {
    for (const [name, colour] of Object.entries(CLASSES)) {
      for (let i = 0; i < count; i++) {
        const [w, h] = [17 + Math.floor(random() * 30), 13 + Math.floor(random() * 30)];
        writeImage(path.join(dir, split, name, `${i}.${i % 2 ? 'jpg' : 'png'}`), w, h, colour, random);
      }
    }
  }
  return dir;
}

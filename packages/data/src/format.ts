/**
 * The CIFAR-10 binary record format: 1 label byte, then 1024 R, 1024 G, 1024 B bytes
 * (32x32 row-major, CHW). Parsing converts to HWC; encoding converts back.
 */
import { GradsyncError } from '@gradsync/core';
import { IMAGE_BYTES, IMAGE_CHANNELS, NUM_CLASSES, PIXELS_PER_IMAGE, RECORD_BYTES, type CifarSplit } from './types';

/** Parses a buffer of whole records into a split (CHW → HWC). `fileName` names the source in errors. */
export function parseCifarRecords(bytes: Uint8Array, fileName: string): CifarSplit {
  const leftover = bytes.length % RECORD_BYTES;
  if (leftover !== 0) {
    const whole = Math.floor(bytes.length / RECORD_BYTES);
    throw new GradsyncError(
      'DATA_BAD_SIZE',
      `${fileName}: size ${bytes.length} bytes is not a whole number of ${RECORD_BYTES}-byte CIFAR-10 records ` +
        `(${whole} records and ${leftover} leftover bytes); the file is truncated or not in the CIFAR-10 binary format`,
    );
  }
  const count = bytes.length / RECORD_BYTES;
  if (count === 0) {
    throw new GradsyncError('DATA_EMPTY', `${fileName}: the file is empty (no CIFAR-10 records)`);
  }
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const rec = i * RECORD_BYTES;
    const label = bytes[rec];
    if (label >= NUM_CLASSES) {
      throw new GradsyncError('DATA_BAD_LABEL', `${fileName}: record ${i} has label ${label}; labels must be 0..${NUM_CLASSES - 1}`);
    }
    labels[i] = label;
    const r = rec + 1;
    const g = r + PIXELS_PER_IMAGE;
    const b = g + PIXELS_PER_IMAGE;
    let o = i * IMAGE_BYTES;
    for (let p = 0; p < PIXELS_PER_IMAGE; p++) {
      images[o] = bytes[r + p];
      images[o + 1] = bytes[g + p];
      images[o + 2] = bytes[b + p];
      o += IMAGE_CHANNELS;
    }
  }
  return { images, labels, count };
}

/** Encodes a split (HWC) as CIFAR-10 binary records (CHW). */
export function encodeCifarRecords(split: CifarSplit): Uint8Array {
  checkSplitShape(split, 'split');
  const { images, labels, count } = split;
  const out = new Uint8Array(count * RECORD_BYTES);
  for (let i = 0; i < count; i++) {
    const label = labels[i];
    if (label >= NUM_CLASSES) {
      throw new GradsyncError('DATA_BAD_LABEL', `image ${i} has label ${label}; labels must be 0..${NUM_CLASSES - 1}`);
    }
    const rec = i * RECORD_BYTES;
    out[rec] = label;
    const r = rec + 1;
    const g = r + PIXELS_PER_IMAGE;
    const b = g + PIXELS_PER_IMAGE;
    let o = i * IMAGE_BYTES;
    for (let p = 0; p < PIXELS_PER_IMAGE; p++) {
      out[r + p] = images[o];
      out[g + p] = images[o + 1];
      out[b + p] = images[o + 2];
      o += IMAGE_CHANNELS;
    }
  }
  return out;
}

/** Checks that images, labels and count agree; `what` names the split in the error. */
export function checkSplitShape(split: CifarSplit, what: string, imageBytes: number = IMAGE_BYTES): void {
  const { images, labels, count } = split;
  if (!Number.isInteger(count) || count < 0) {
    throw new GradsyncError('DATA_BAD_SPLIT', `${what}: count ${count} is not a non-negative integer`);
  }
  if (labels.length !== count || images.length !== count * imageBytes) {
    throw new GradsyncError(
      'DATA_BAD_SPLIT',
      `${what}: count ${count} needs ${count} labels and ${count * imageBytes} image bytes, ` + `got ${labels.length} labels and ${images.length} image bytes`,
    );
  }
}

/** Concatenates splits in order (e.g. the five training batches). */
export function concatSplits(parts: readonly CifarSplit[]): CifarSplit {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * IMAGE_BYTES);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { images, labels, count };
}

import { describe, expect, it } from 'vitest';
import { GradsyncError } from '@gradsync/core';
import { concatSplits, encodeCifarRecords, parseCifarRecords } from './format';
import { IMAGE_BYTES, RECORD_BYTES } from './types';

/** n records whose bytes are a simple function of (record, position). */
function records(n: number, label = (i: number) => i % 10): Uint8Array {
  const out = new Uint8Array(n * RECORD_BYTES);
  for (let i = 0; i < n; i++) {
    out[i * RECORD_BYTES] = label(i);
    for (let k = 1; k < RECORD_BYTES; k++) out[i * RECORD_BYTES + k] = (k * 7 + i * 13) & 0xff;
  }
  return out;
}

function errorOf(fn: () => unknown): GradsyncError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GradsyncError);
    return err as GradsyncError;
  }
  throw new Error('expected an error');
}

describe('parseCifarRecords', () => {
  it('converts CHW records to HWC images', () => {
    const bytes = new Uint8Array(2 * RECORD_BYTES);
    bytes[0] = 3;
    // record 0, pixel (row 1, col 2) = index 34: R=10, G=20, B=30
    bytes[1 + 34] = 10;
    bytes[1 + 1024 + 34] = 20;
    bytes[1 + 2048 + 34] = 30;
    bytes[RECORD_BYTES] = 9;
    bytes[RECORD_BYTES + 1 + 2048 + 1023] = 77; // record 1, last pixel, blue
    const split = parseCifarRecords(bytes, 'x.bin');
    expect(split.count).toBe(2);
    expect([...split.labels]).toEqual([3, 9]);
    expect(split.images.length).toBe(2 * IMAGE_BYTES);
    expect([...split.images.subarray(34 * 3, 34 * 3 + 3)]).toEqual([10, 20, 30]);
    expect(split.images[2 * IMAGE_BYTES - 1]).toBe(77);
  });

  it('round-trips with encodeCifarRecords', () => {
    const bytes = records(5);
    expect(Buffer.compare(encodeCifarRecords(parseCifarRecords(bytes, 'x.bin')), bytes)).toBe(0);
  });

  it('rejects a size that is not a whole number of records, naming file, size and leftover', () => {
    const err = errorOf(() => parseCifarRecords(records(2).subarray(0, 2 * RECORD_BYTES - 100), 'data_batch_3.bin'));
    expect(err.code).toBe('DATA_BAD_SIZE');
    expect(err.message).toContain('data_batch_3.bin');
    expect(err.message).toContain(`${2 * RECORD_BYTES - 100} bytes`);
    expect(err.message).toContain(`${RECORD_BYTES - 100} leftover bytes`);
  });

  it('rejects a label outside 0..9, naming file, record and label', () => {
    const err = errorOf(() =>
      parseCifarRecords(
        records(4, (i) => (i === 2 ? 10 : 1)),
        'test_batch.bin',
      ),
    );
    expect(err.code).toBe('DATA_BAD_LABEL');
    expect(err.message).toContain('test_batch.bin: record 2 has label 10');
  });

  it('rejects an empty file', () => {
    expect(errorOf(() => parseCifarRecords(new Uint8Array(0), 'e.bin')).code).toBe('DATA_EMPTY');
  });
});

describe('encodeCifarRecords', () => {
  it('rejects inconsistent splits', () => {
    const err = errorOf(() => encodeCifarRecords({ images: new Uint8Array(10), labels: new Uint8Array(1), count: 1 }));
    expect(err.code).toBe('DATA_BAD_SPLIT');
  });
});

describe('concatSplits', () => {
  it('joins splits in order', () => {
    const a = parseCifarRecords(records(2), 'a');
    const b = parseCifarRecords(
      records(3, () => 7),
      'b',
    );
    const all = concatSplits([a, b]);
    expect(all.count).toBe(5);
    expect([...all.labels]).toEqual([0, 1, 7, 7, 7]);
    expect(Buffer.compare(all.images.subarray(2 * IMAGE_BYTES), b.images)).toBe(0);
  });
});

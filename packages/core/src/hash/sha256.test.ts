import { describe, expect, it } from 'vitest';
import { createSha256 as browserSha256 } from './sha256-browser';
import { createSha256 as nodeSha256 } from './sha256-node';
import { createSha256 } from '#sha256';

describe('sha256', () => {
  it('is the standard digest (FIPS 180-2 test vector)', () => {
    expect(nodeSha256().update('abc').hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(browserSha256().update('abc').hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('gives the same hex in Node and in the browser build for bytes fed in pieces', () => {
    const bytes = new Uint8Array(100_003).map((_, i) => (i * 7919) % 251);
    const pieces = (h: ReturnType<typeof nodeSha256>) => h.update(bytes.subarray(0, 4097)).update(':').update(bytes.subarray(4097)).hex();
    expect(pieces(browserSha256())).toBe(pieces(nodeSha256()));
  });

  it('resolves #sha256 to the Node implementation outside a browser bundle', () => {
    expect(createSha256).toBe(nodeSha256);
  });
});

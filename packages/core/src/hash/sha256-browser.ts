import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { Sha256 } from './sha256-api';

/**
 * A browser has no synchronous sha256 (crypto.subtle is async), and a tab worker must compute the
 * same weight hashes and data set checksums as a Node worker, step by step, in the same code.
 */
export function createSha256(): Sha256 {
  const hash = sha256.create();
  const api: Sha256 = {
    update(data) {
      hash.update(typeof data === 'string' ? utf8ToBytes(data) : data);
      return api;
    },
    hex: () => bytesToHex(hash.digest()),
  };
  return api;
}

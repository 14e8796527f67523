import { createHash } from 'node:crypto';
import type { Sha256 } from './sha256-api';

/** Node's OpenSSL sha256 (several times faster than any JS one): what workers and the coordinator use. */
export function createSha256(): Sha256 {
  const hash = createHash('sha256');
  const api: Sha256 = {
    update(data) {
      hash.update(data);
      return api;
    },
    hex: () => hash.digest('hex'),
  };
  return api;
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Compares two secrets in time independent of where they differ (hashed first, so lengths do not leak either). */
export function secretsEqual(expected: string, presented: string): boolean {
  return timingSafeEqual(createHash('sha256').update(expected, 'utf8').digest(), createHash('sha256').update(presented, 'utf8').digest());
}

/** A fresh random secret, URL-safe (for a viewer token nobody gave). */
export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

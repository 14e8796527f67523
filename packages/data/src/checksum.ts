/** A checksum of a split, so a worker can prove it holds the same data as the coordinator. */
import { createSha256 } from '@gradsync/core';
import { type CifarSplit, labelBytes } from './types';

/** sha256 (hex) of the labels followed by the images (HWC bytes). */
export function splitChecksum(split: CifarSplit): string {
  return createSha256().update(labelBytes(split.labels)).update(split.images).hex();
}

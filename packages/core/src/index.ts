/**
 * @gradsync/core: the small base every package shares, safe in a browser bundle: errors that
 * name the problem, keyed random numbers, medians, sha256. Node-only helpers are in `./node`.
 */
export * from './errors/gradsync-error';
export * from './errors/backend-unavailable';
export * from './random/index';
export * from './stats/index';
export type { Sha256 } from './hash/sha256-api';
export { createSha256 } from '#sha256';

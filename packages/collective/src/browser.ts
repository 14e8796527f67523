// The browser-safe part of @gradsync/collective: what a tab worker bundles (no node:*, no ws).
// Files reached from here import core's errors by their leaf path: core's barrel brings node:fs.
export * from './algorithms/index';
export * from './wire/peer';
export * from './star/star-client';
export * from './transport/all-reducer';

export * from './replica-for-run';
export * from './training-splits';

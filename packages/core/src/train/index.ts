export * from './adam';
export * from './plateau';
export * from './weight-layout';
export * from './replica';
export * from './batch';
export * from './training-splits';

export * from './ring-schedule';
export * from './segments';
export * from './sum';
export * from './ring-operation';
export * from './star-hub';
export * from './simulate';
export * from './sub-operation';
export * from './simd-add';

export * from './codec';
export * from './peer';
export * from './messages';
export * from './dataset';
export * from './close';
export * from './replica-state';
export * from './join-offer';

export * from './codec';
export * from './messages';
export * from './dataset';
export * from './close';
export * from './replica-state';
export * from './join-offer';

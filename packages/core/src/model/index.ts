export * from './zoo';
export * from './io';

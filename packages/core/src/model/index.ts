export * from './zoo';

export * from './all-reducer';
export * from './ring-all-reducer';
export * from './star-all-reducer';
export * from './star-hub-server';
export * from './ws-frame-channel';
export { tokensMatch } from './peer-handshake';

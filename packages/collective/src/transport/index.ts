export * from './all-reducer';
export * from './ring-all-reducer';
export { tokensMatch } from './peer-handshake';
export { zeroMask } from './peer-socket';

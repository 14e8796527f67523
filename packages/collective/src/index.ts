// The whole surface of @gradsync/collective (see README.md).
export * from './algorithms/index';
export * from './wire/peer';
export * from './transport/index';
export * from './star/star-client';
export * from './star/star-relay';

// The whole surface of @gradsync/collective (see README.md); ./browser is its browser-safe part.
export * from './browser';
export * from './transport/index';
export * from './star/star-relay';

export * from './model-shape';
export * from './layer-init';
export * from './zoo';
export * from './resnet9';
export * from './airbench';
export * from './whitening';
export * from './topology';

/** @gradsync/data: data sets: CIFAR-10 binary files, download, synthetic sets, validation split, the sampler. */
export * from './browser';
export * from './tar-entries';
export * from './read-binary';
export * from './write-binary';
export * from './download';
export * from './load';
export * from './image-folder';
export * from './cifar100';
export { BT601_LUMA, decodeImageBytes, defaultDecoder, type DecodedImage, type DecoderName } from './image-decode';
export * from './load-dataset';

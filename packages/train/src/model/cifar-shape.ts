/** One CIFAR-10 image (height, width, RGB) and the number of classes. */
export const IMAGE_SHAPE = [32, 32, 3] as const;
export const NUM_CLASSES = 10;

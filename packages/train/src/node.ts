/** @gradsync/train/node: the Node-only half of train: model and run-config files on disk, threads per process, the recipe flags (commander). */
export * from './model/io';
export * from './model/user-model';
export * from './config/run-config-file';
export * from './config/threads';
export * from './config/recipe-options';
export * from './config/data-options';

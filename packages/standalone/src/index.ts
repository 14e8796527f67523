/** @gradsync/standalone: training, evaluation and prediction in one process, no coordinator (the CLIs are in cli/). */
export { trainLocally, type LocalRunResult } from './train-local';
export { loadExportedModel } from './exported-model';
export { decodeImageFile, toModelInput } from './image-decode';

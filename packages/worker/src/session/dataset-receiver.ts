import { GradsyncError } from '@gradsync/core';
import { type Cifar10, imageBytes } from '@gradsync/data/browser';
import { type DatasetInfo, datasetChecksum } from '@gradsync/protocol';

type Part = 'train-images' | 'train-labels' | 'test-images' | 'test-labels';

/** Assembles the data set from the coordinator's chunks and proves it arrived intact. */
export class DatasetReceiver {
  private readonly parts: Record<Part, Uint8Array>;
  private readonly filled: Record<Part, number> = { 'train-images': 0, 'train-labels': 0, 'test-images': 0, 'test-labels': 0 };

  constructor(private readonly info: DatasetInfo) {
    const image = imageBytes(info.shape);
    this.parts = {
      'train-images': new Uint8Array(info.trainCount * image),
      'train-labels': new Uint8Array(info.trainCount * info.labelBytes),
      'test-images': new Uint8Array(info.testCount * image),
      'test-labels': new Uint8Array(info.testCount * info.labelBytes),
    };
  }

  /** The labels as the data set stores them (each part is its own buffer, so 16-bit views are aligned). */
  private labels(part: 'train-labels' | 'test-labels'): Uint8Array | Uint16Array {
    const bytes = this.parts[part];
    return this.info.labelBytes === 2 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2) : bytes;
  }

  add(part: Part, offset: number, data: Uint8Array): void {
    const target = this.parts[part];
    if (offset + data.byteLength > target.byteLength) {
      throw new GradsyncError('E_PROTOCOL', `data chunk for ${part} at ${offset} (+${data.byteLength}) overflows its ${target.byteLength} bytes`);
    }
    target.set(data, offset);
    this.filled[part] += data.byteLength;
  }

  get complete(): boolean {
    return (Object.keys(this.parts) as Part[]).every((p) => this.filled[p] === this.parts[p].byteLength);
  }

  /** The data set, after checking its checksum against the coordinator's. */
  finish(): Cifar10 {
    const data: Cifar10 = {
      train: { images: this.parts['train-images'], labels: this.labels('train-labels'), count: this.info.trainCount },
      test: { images: this.parts['test-images'], labels: this.labels('test-labels'), count: this.info.testCount },
      classNames: this.info.classNames,
      shape: this.info.shape,
      source: this.info.source,
    };
    const sum = datasetChecksum(data);
    if (sum !== this.info.checksum) {
      throw new GradsyncError(
        'E_DATA_CHECKSUM',
        `the data set received from the coordinator has checksum ${sum.slice(0, 12)}…, expected ${this.info.checksum.slice(0, 12)}…`,
      );
    }
    return data;
  }
}

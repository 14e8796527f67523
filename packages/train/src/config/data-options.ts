import { Option, type Command } from 'commander';
import { DATA_FORMATS, type DataReadOptions, parseImageSize } from '@gradsync/data';
import { GradsyncError } from '@gradsync/core';

/** The flags that say how to read --data-dir (every training command declares them, after addRecipeOptions' --data-dir). */
export function addDataReadOptions(program: Command): Command {
  return program
    .addOption(new Option('--data-format <format>', 'what --data-dir holds (auto: recognised from its files)').choices(DATA_FORMATS).default('auto'))
    .option('--image-size <HxW>', 'image folders: resize every image once at load, H or HxW (default: the images must share one size)')
    .addOption(new Option('--channels <n>', 'image folders: 1 (greyscale) or 3 (colour); default: 1 when every image is grey').choices(['1', '3']))
    .addOption(new Option('--labels <which>', 'CIFAR-100: fine (100 classes) or coarse (20 superclasses)').choices(['fine', 'coarse']))
    .option('--test-fraction <f>', 'an image folder without train/ and test/: the share of each class held out as the test split (default 0.2)');
}

/** The parsed flags of addDataReadOptions, each checked. */
export function dataReadOptionsFrom(o: Record<string, unknown>): DataReadOptions {
  const out: DataReadOptions = { format: o.dataFormat as DataReadOptions['format'] };
  if (o.imageSize !== undefined) out.imageSize = parseImageSize(String(o.imageSize));
  if (o.channels !== undefined) out.channels = Number(o.channels) as 1 | 3;
  if (o.labels !== undefined) out.labels = o.labels as 'fine' | 'coarse';
  if (o.testFraction !== undefined) {
    const f = Number(o.testFraction);
    if (!(f > 0 && f < 1)) throw new GradsyncError('E_CONFIG', `--test-fraction ${String(o.testFraction)} must be a number between 0 and 1`);
    out.testFraction = f;
  }
  return out;
}

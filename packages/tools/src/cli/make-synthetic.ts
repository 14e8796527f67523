/**
 * `pnpm make-synthetic --out DIR --train N --test M [--seed S] [--gzip]`: writes a synthetic data set
 * in the official CIFAR-10 binary layout (data_batch_1..5.bin, test_batch.bin, batches.meta.txt).
 */
import { InvalidArgumentError } from 'commander';
import { makeSyntheticCifar10, OFFICIAL_TRAIN_FILES, writeCifar10Binary } from '@gradsync/data';
import { runCli, gradsyncProgram } from '@gradsync/core/node';

function integer(min: number) {
  return (text: string): number => {
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text)) || Number(text) < min) {
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${text}"`);
    }
    return Number(text);
  };
}

async function main(argv: string[]): Promise<void> {
  const program = gradsyncProgram('pnpm make-synthetic')
    .description('Write a synthetic CIFAR-10-shaped data set in the official binary layout')
    .requiredOption('--out <dir>', 'folder to write the batch files into')
    .requiredOption('--train <n>', `training images (at least ${OFFICIAL_TRAIN_FILES}, one per data_batch file)`, integer(OFFICIAL_TRAIN_FILES))
    .requiredOption('--test <m>', 'test images (at least 1)', integer(1))
    .option('--seed <s>', 'random seed', integer(-0x8000_0000), 0)
    .option('--gzip', 'write .bin.gz files', false);
  program.parse(argv);
  const opts = program.opts<{ out: string; train: number; test: number; seed: number; gzip: boolean }>();
  const data = makeSyntheticCifar10({ train: opts.train, test: opts.test, seed: opts.seed });
  const written = await writeCifar10Binary(opts.out, data, { gzip: opts.gzip });
  process.stdout.write(`wrote ${data.source} to ${opts.out}: ${written.length} files\n`);
}

void runCli(() => main(process.argv));

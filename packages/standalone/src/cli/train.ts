import { gradsyncProgram, logInfo, logLine, runCli } from '@gradsync/core/node';
import { intOption, type RunConfig } from '@gradsync/train';
import { addDataReadOptions, addRecipeOptions, dataReadOptionsFrom, recipeFromOptions } from '@gradsync/train/node';
import { loadDataset } from '@gradsync/data';
import { addComputeFlags, startComputeBackend } from './compute-flags';
import { trainLocally } from '../train-local';

const log = logInfo;

await runCli(async () => {
  const program = addDataReadOptions(addRecipeOptions(gradsyncProgram('pnpm train').description('Train a recipe in one process (no sockets).'))).option(
    '--gpu <n>',
    'GPU index (tfjs-node-gpu, then webgpu)',
    intOption('--gpu', 0),
  );
  addComputeFlags(program).parse();
  const o = program.opts();
  const config: RunConfig = recipeFromOptions(o, {}, 'train');
  const backend = await startComputeBackend(o);
  const data = await loadDataset({ ...dataReadOptionsFrom(o), dataDir: o.dataDir, cacheDir: o.cacheDir, log });
  log(`data: ${data.source}`);
  const result = await trainLocally(config, data, { runsDir: o.runsDir, log, backend: { name: backend.name, device: backend.device } });
  logLine('notice', `done in ${result.wallSec.toFixed(1)} s, ${result.imagesPerSec.toFixed(1)} img/s overall; run folder ${result.runDir}`);
});

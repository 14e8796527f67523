import { gradsyncProgram, logInfo, logLine, QUIET_FLAGS, QUIET_HELP, runCli, setQuiet } from '@gradsync/core/node';
import { selectBackend } from '@gradsync/backends';
import { intOption, type RunConfig } from '@gradsync/train';
import { addRecipeOptions, recipeFromOptions } from '@gradsync/train/node';
import { loadCifar10 } from '@gradsync/data';
import { backendOption, threadsOption } from '@gradsync/worker';
import { trainLocally } from '../train-local';

const log = logInfo;

await runCli(async () => {
  const program = addRecipeOptions(gradsyncProgram('pnpm train').description("Train the tutorial's CIFAR-10 network in one process (no sockets)."))
    .option('--gpu <n>', 'GPU index (tfjs-node-gpu, then webgpu)', intOption('--gpu', 0))
    .addOption(backendOption())
    .addOption(threadsOption())
    .option(QUIET_FLAGS, QUIET_HELP);
  program.parse();
  const o = program.opts();
  setQuiet(Boolean(o.quiet));
  const config: RunConfig = recipeFromOptions(o, {}, 'train');
  const backend = await selectBackend({ backend: o.backend, gpu: o.gpu, threads: o.threads });
  log(backend.summary);
  const data = await loadCifar10({ dataDir: o.dataDir, cacheDir: o.cacheDir, log });
  log(`data: ${data.source}`);
  const result = await trainLocally(config, data, { runsDir: o.runsDir, log, backend: { name: backend.name, device: backend.device } });
  logLine('notice', `done in ${result.wallSec.toFixed(1)} s, ${result.imagesPerSec.toFixed(1)} img/s overall; run folder ${result.runDir}`);
});

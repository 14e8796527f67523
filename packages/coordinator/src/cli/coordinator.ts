import { Command } from 'commander';
import { runCli } from '@gradsync/core';
import { intOption } from '@gradsync/core/config';
import { launchCoordinator } from '../launch';
import { addRunOptions, coordinatorLog, launchOptionsFrom } from './run-options';

await runCli(async () => {
  const program = addRunOptions(
    new Command('pnpm coordinator')
      .description('Coordinate a synchronous data-parallel training run; workers connect with `pnpm worker --coordinator URL`.')
      .option('--workers <n>', 'how many workers to wait for before step 0', intOption('--workers', 1), 1),
  );
  program.parse();
  const launched = await launchCoordinator(launchOptionsFrom(program, program.opts().workers, coordinatorLog));
  coordinatorLog('info', `workers connect to ${launched.workerUrl}   e.g. pnpm worker --coordinator ${launched.workerUrl}`);
  coordinatorLog('info', `dashboard: ${launched.httpUrl}`);
  const end = await launched.done;
  coordinatorLog('info', `run ${end.status} in ${end.wallSec.toFixed(1)} s; test accuracy ${end.test ? end.test.accuracy.toFixed(4) : 'n/a'}; run folder ${launched.runDir}`);
});

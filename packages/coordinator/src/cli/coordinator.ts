import { gradsyncProgram, runCli, setQuiet } from '@gradsync/core/node';
import { intOption } from '@gradsync/train';
import { ensureDashboardBuilt } from '@gradsync/dashboard/node';
import { launchCoordinator } from '../launch';
import { addRunOptions, coordinatorLog, launchOptionsFrom } from '../run-options';

await runCli(async () => {
  const program = addRunOptions(
    gradsyncProgram('pnpm coordinator')
      .description('Coordinate a synchronous data-parallel training run; workers connect with `pnpm worker --coordinator URL`.')
      .option('--workers <n>', 'how many workers to wait for before step 0', intOption('--workers', 1), 1),
  );
  program.parse();
  setQuiet(Boolean(program.opts().quiet));
  const launch = launchOptionsFrom(program, program.opts().workers, coordinatorLog);
  const page = await ensureDashboardBuilt((line) => coordinatorLog('info', line));
  const launched = await launchCoordinator(launch);
  coordinatorLog('notice', `workers connect to ${launched.workerUrl}   e.g. pnpm worker --coordinator ${launched.workerUrl}`);
  if (page.ok) coordinatorLog('notice', `dashboard: ${launched.dashboardUrl}`);
  else coordinatorLog('warn', `no dashboard page: ${page.why}. Training goes on; its metrics are in ${launched.runDir}/metrics.jsonl`);
  const end = await launched.done;
  coordinatorLog(
    'notice',
    `run ${end.status} in ${end.wallSec.toFixed(1)} s; test accuracy ${end.test ? end.test.accuracy.toFixed(4) : 'n/a'}; run folder ${launched.runDir}`,
  );
});

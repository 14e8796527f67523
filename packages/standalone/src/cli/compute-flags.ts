import type { Command, OptionValues } from 'commander';
import { logInfo, QUIET_FLAGS, QUIET_HELP, setQuiet } from '@gradsync/core/node';
import { type BackendRequest, type BackendSelection, selectBackend } from '@gradsync/backends';
import { backendOption, threadsOption } from '@gradsync/worker';

/** --backend, --threads and --quiet, as each of this package's commands declares them. */
export function addComputeFlags(program: Command): Command {
  return program.addOption(backendOption()).addOption(threadsOption()).option(QUIET_FLAGS, QUIET_HELP);
}

/** Applies --quiet, then starts the backend the flags ask for and says which one runs. */
export async function startComputeBackend(o: OptionValues): Promise<BackendSelection> {
  setQuiet(Boolean(o.quiet));
  const backend = await selectBackend({ backend: o.backend as BackendRequest, threads: o.threads as number | undefined, gpu: o.gpu as number | undefined });
  logInfo(backend.summary);
  return backend;
}

/** @gradsync/coordinator: start a coordinator from a program (the CLIs are in cli/). */
export { launchCoordinator, readRunConfig, type LaunchedCoordinator, type LaunchOptions } from './launch';
export { RunCoordinator, type MembershipOptions, type MetricsSink } from './run/run-coordinator';
export { WorkerHub, WorkerConnection, WORKER_PATH, type WorkerHubEvents } from './hub/worker-hub';
export { loadLatestCheckpoint, type Checkpoint } from './run/checkpoint';
export { planLocalWorkers, type LocalWorkersOptions, type LocalWorkersPlan } from './local-workers';
export { spawnWorkers, WORKER_CLI, type WorkerExit, type WorkerProcesses } from './worker-processes';
export { visibleGpus } from './visible-gpus';
export { dataFlagsFromRead, type DataFlags } from './data-flags-record';

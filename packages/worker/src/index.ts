/** @gradsync/worker: the training worker's parts, for programs that embed one (the CLIs are in cli/). */
export { connectToCoordinator, type ConnectOptions, type CoordinatorLink } from './coordinator-link';
export { createRingProvider, type RingProviderOptions } from './ring-provider';
export { WorkerSession, type RingProvider, type SessionEnd } from './session/worker-session';
export { BACKEND_CHOICES, backendOption, threadsOption } from './backend-flag';
export { ProcessUsageSampler, type ProcessUsage } from './process-usage';

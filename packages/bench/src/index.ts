/** @gradsync/bench: the benchmarks as a call (the CLIs are in cli/), and the virtual LAN the multi-host test also uses. */
export * from './training/run-bench';
export { netnsUnavailable, VirtualLan } from './netns/virtual-lan';

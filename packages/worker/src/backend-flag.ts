import { Option } from 'commander';
import { backendRequests } from '@gradsync/backends';
import { intOption } from '@gradsync/train';
import { THREADS_HELP } from '@gradsync/train/node';

/** Values of --backend (see the README's "Backends"). */
export const BACKEND_CHOICES = backendRequests as readonly string[];

/** --backend, as every command that computes declares it. */
export function backendOption(): Option {
  return new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKEND_CHOICES).default('auto');
}

/** --threads (onednn's CPU threads), as every command that computes declares it. */
export function threadsOption(): Option {
  return new Option('--threads <n>', THREADS_HELP).argParser(intOption('--threads', 1));
}

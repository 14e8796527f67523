export { noteSkip, readSkipLog, SKIP_LOG_ENV } from './skip-note';
export type { SkipNote } from './skip-note';
export { formatSkipSummary, installCommand } from './summary';

export { runTabWorker, type TabScope } from './browser/tab-worker';
export type { PageToTab, TabBackendChoice, TabStart, TabState, TabToPage } from './browser/tab-messages';

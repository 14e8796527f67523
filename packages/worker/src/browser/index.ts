export { runTabWorker, type TabScope } from './tab-worker';
export type { PageToTab, TabBackendChoice, TabStart, TabState, TabToPage } from './tab-messages';

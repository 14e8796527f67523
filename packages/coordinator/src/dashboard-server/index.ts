export { MetricsFeed, type MetricsFeedOptions, type RecordListener } from './metrics-feed';
export { attachDashboard, DashboardRoutes, FEED_PATH, RECORDS_PATH, VIEW_PATH, type AttachOptions, type DashboardAttachment } from './http-routes';
export { startDashboardServer, type DashboardServer, type DashboardServerOptions } from './start';
export { DEFAULT_DASHBOARD_DIST, isDashboardBuilt } from './static-files';
export { FeedSocket, MAX_BUFFERED_BYTES } from './feed-socket';
export { RunsFolder, listRunNames } from './runs-folder';
export { RunsFolderRoutes, RUNS_PATH } from './runs-routes';

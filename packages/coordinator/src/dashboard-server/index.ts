export { MetricsFeed, type MetricsFeedOptions, type RecordListener } from './metrics-feed';
export { attachDashboard, DashboardRoutes, FEED_PATH, RECORDS_PATH, type AttachOptions, type DashboardAttachment } from './http-routes';
export { startDashboardServer, type DashboardServer, type DashboardServerOptions } from './start';
export { DEFAULT_DASHBOARD_DIST, isDashboardBuilt } from './static-files';
export { FeedSocket, MAX_BUFFERED_BYTES } from './feed-socket';
export { ensureDashboardBuilt, type DashboardReady } from './ensure-built';
export { CLOSE_UNAUTHORIZED, checkViewer, exchangeUrlToken, VIEWER_COOKIE, type ViewerAuthOptions } from './viewer-auth';
export { PAGE_CSP, SECURITY_HEADERS } from './security-headers';

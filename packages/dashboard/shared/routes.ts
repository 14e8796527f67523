/**
 * The dashboard's URL paths, written once for the server that answers them (server/) and the
 * page that asks (src/).
 */

/** The WebSocket path the dashboard page connects to. */
export const FEED_PATH = '/feed';
/** The history as one JSON array. */
export const RECORDS_PATH = '/api/records';
/** Whether the page may start a browser-tab worker (see the join offer). */
export const JOIN_PATH = '/api/join';
/** Which view the page should show: {"view":"live"} here, {"view":"compare"} for a runs folder. */
export const VIEW_PATH = '/api/view';
/** The compare view's list of runs, each with its summary. */
export const RUNS_PATH = '/api/runs';

/** One run's records in a runs folder. */
export function runRecordsPath(name: string): string {
  return `${RUNS_PATH}/${encodeURIComponent(name)}/records`;
}

/** Matches a path {@link runRecordsPath} made; group 1 is the run name, still URI-encoded. */
export const RUN_RECORDS_PATTERN = /^\/api\/runs\/([^/]+)\/records$/;

/**
 * Whether a WebSocket upgrade on /worker that carries an Origin header (so comes from a web page)
 * may proceed. Node workers send no Origin. A page may join only with --browser-workers and only
 * from the coordinator's own dashboard: any other site the user has open could otherwise make the
 * browser join a run on loopback, where no token is needed, and read the data set or send gradients.
 * Returns null to accept, else the reason for a 403.
 */
export function browserOriginRefusal(origin: string | undefined, host: string | undefined, browserWorkers: boolean): string | null {
  if (origin === undefined) return null;
  if (!browserWorkers) return 'browser workers are off: start the coordinator with --browser-workers to let a tab join';
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return `malformed Origin header ${JSON.stringify(origin.slice(0, 100))}`;
  }
  if (host === undefined || originHost.toLowerCase() !== host.toLowerCase()) {
    return `a page from ${origin.slice(0, 100)} may not join: only the coordinator's own dashboard page can start a browser worker`;
  }
  return null;
}

import type http from 'node:http';
import { isReadOnly, methodNotAllowed, notFound, pathOf, sendJson, servePage } from './http-replies';
import { type AccessOptions, guardRequest } from './request-guard';
import type { RunsFolder } from './runs-folder';
import { VIEW_PATH } from './http-routes';
import { DEFAULT_DASHBOARD_DIST } from './static-files';
import { RUN_RECORDS_PATTERN, RUNS_PATH } from '../shared/routes';

export { RUNS_PATH };

/**
 * The routes of `pnpm dashboard runs/`: `GET /api/view` ({"view":"compare"}), `GET /api/runs`
 * (every run's summary), `GET /api/runs/<name>/records` (one run's records), and the page.
 * Read-only: no live feed.
 */
export class RunsFolderRoutes {
  constructor(
    private readonly runs: RunsFolder,
    private readonly distDir = DEFAULT_DASHBOARD_DIST,
    private readonly access: AccessOptions = {},
  ) {}

  handleRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const pathname = pathOf(req);
    if (pathname === null) return false;
    if (guardRequest(req, res, this.access)) return true;
    if (pathname === VIEW_PATH) {
      if (!isReadOnly(req)) return methodNotAllowed(res);
      return sendJson(req, res, { view: 'compare' });
    }
    if (pathname === RUNS_PATH) {
      if (!isReadOnly(req)) return methodNotAllowed(res);
      return sendJson(req, res, this.runs.summaries());
    }
    const match = RUN_RECORDS_PATTERN.exec(pathname);
    if (match) {
      if (!isReadOnly(req)) return methodNotAllowed(res);
      let name: string;
      try {
        name = decodeURIComponent(match[1]);
      } catch {
        name = '';
      }
      const records = name ? this.runs.records(name) : null;
      if (!records) {
        notFound(res, pathname);
        return true;
      }
      return sendJson(req, res, records);
    }
    return servePage(req, res, this.distDir, pathname);
  }
}

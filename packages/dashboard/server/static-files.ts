import { createReadStream, existsSync, statSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `pnpm --filter @gradsync/dashboard build` puts the dashboard, found from this source file. */
export const DEFAULT_DASHBOARD_DIST = fileURLToPath(new URL('../dist/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** True when the dashboard has been built into `distDir`. */
export function isDashboardBuilt(distDir: string): boolean {
  return existsSync(path.join(distDir, 'index.html'));
}

/**
 * The file under `distDir` that a URL path names ('/' → index.html), or null when the path is
 * malformed, leaves the folder, or names no regular file.
 */
export function resolveStaticFile(distDir: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const relative = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const root = path.resolve(distDir);
  const file = path.resolve(root, relative);
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  try {
    return statSync(file).isFile() ? file : null;
  } catch {
    return null;
  }
}

/** Sends a file with its content type; hashed assets are cached for good, index.html never. */
export function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string): void {
  const size = statSync(file).size;
  res.writeHead(200, {
    'Content-Type': contentTypeFor(file),
    'Content-Length': size,
    'Cache-Control': file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

export function notBuiltMessage(distDir: string): string {
  return (
    `The gradsync dashboard is not built: ${path.join(distDir, 'index.html')} does not exist.\n` +
    'Run `pnpm build` (or `pnpm --filter @gradsync/dashboard build`) in the repository, then reload this page.\n' +
    'The metrics are still served at /api/records and /feed.\n'
  );
}

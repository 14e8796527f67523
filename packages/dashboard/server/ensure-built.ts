import { spawn } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_DASHBOARD_DIST, isDashboardBuilt } from './static-files';

/** The dashboard package's build script, beside the dist/ folder it writes. */
const BUILD_SCRIPT = path.join(DEFAULT_DASHBOARD_DIST, '..', 'scripts', 'build-dist.mjs');

export type DashboardReady = { ok: true; built: boolean } | { ok: false; why: string };

/**
 * Makes sure the dashboard page exists before anyone prints its URL: the install builds it, but
 * an install run with --ignore-scripts, or a deleted dist/, would leave a URL that answers 503.
 */
export async function ensureDashboardBuilt(log: (line: string) => void, distDir = DEFAULT_DASHBOARD_DIST, buildScript = BUILD_SCRIPT): Promise<DashboardReady> {
  if (isDashboardBuilt(distDir)) return { ok: true, built: false };
  log('building the dashboard page (first start after an install without scripts; a few seconds)…');
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [buildScript], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => output.push(b.toString()));
    child.stderr.on('data', (b: Buffer) => output.push(b.toString()));
    child.on('error', (err) => {
      output.push(err.message);
      resolve(null);
    });
    child.on('close', resolve);
  });
  if (code === 0 && isDashboardBuilt(distDir)) return { ok: true, built: true };
  const said = output.join('').trim().split('\n').slice(-3).join(' / ');
  return { ok: false, why: `building it failed (${said || `exit ${code}`}); try \`pnpm --filter @gradsync/dashboard build\`` };
}

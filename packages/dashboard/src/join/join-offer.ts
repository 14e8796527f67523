import type { JoinOffer } from '@gradsync/protocol';
import { JOIN_PATH } from '../../shared/routes';

/** Validates GET /api/join's answer; anything malformed is "not allowed", with the reason. */
export function parseJoinOffer(value: unknown): JoinOffer {
  if (typeof value !== 'object' || value === null) return { allowed: false, why: 'the coordinator sent no join offer' };
  const v = value as Record<string, unknown>;
  if (v.allowed !== true) return { allowed: false, why: typeof v.why === 'string' ? v.why : 'browser workers are off' };
  if (typeof v.workerPath !== 'string' || !v.workerPath.startsWith('/')) return { allowed: false, why: 'the join offer names no worker path' };
  if (v.token !== undefined && typeof v.token !== 'string') return { allowed: false, why: 'the join offer has a malformed token' };
  return { allowed: true, workerPath: v.workerPath, ...(v.token === undefined ? {} : { token: v.token }) };
}

/** The worker endpoint on the host the page came from (the same origin: the coordinator refuses others). */
export function workerUrl(loc: Pick<Location, 'protocol' | 'host'>, workerPath: string): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${workerPath}`;
}

const BROWSERS: [RegExp, string][] = [
  [/Edg\/(\d+)/, 'Edge'],
  [/(?:HeadlessChrome|Chromium|Chrome)\/(\d+)/, 'Chromium'],
  [/Firefox\/(\d+)/, 'Firefox'],
  [/Version\/(\d+)[^]*Safari/, 'Safari'],
];
const PLATFORMS: [RegExp, string][] = [
  [/Android/, 'Android'],
  [/Windows/, 'Windows'],
  [/Mac OS X/, 'macOS'],
  [/Linux/, 'Linux'],
];

/** How the tab names itself in the worker table: the browser and platform, from the user agent. */
export function tabLabel(userAgent: string): string {
  let browser = 'a browser';
  for (const [pattern, name] of BROWSERS) {
    const m = pattern.exec(userAgent);
    if (m) {
      browser = `${name} ${m[1]}`;
      break;
    }
  }
  const platform = PLATFORMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  return `browser tab (${browser}${platform ? `, ${platform}` : ''})`;
}

export async function fetchJoinOffer(): Promise<JoinOffer> {
  try {
    const res = await fetch(JOIN_PATH, { cache: 'no-store' });
    if (!res.ok) return { allowed: false, why: `GET ${JOIN_PATH} answered ${res.status}` };
    return parseJoinOffer(await res.json());
  } catch (err) {
    return { allowed: false, why: err instanceof Error ? err.message : String(err) };
  }
}

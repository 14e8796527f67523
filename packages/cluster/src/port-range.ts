/** Ports for ring links: one port or a range, and listening on the first free one in it. */
import { GradsyncError } from '@gradsync/core';

export interface PortRange {
  first: number;
  last: number;
}

const PORT = /^\d{1,5}$/;

/** "7100" or "7100-7199" (both ends included); anything else is refused naming `source`. */
export function parsePortRange(text: string, source = '--peer-port'): PortRange {
  const parts = text
    .trim()
    .split('-')
    .map((p) => p.trim());
  const bad = (why: string) =>
    new GradsyncError('E_FLAG', `${source} must be a port or a range FIRST-LAST of ports from 1 to 65535 (e.g. 7100 or 7100-7199), got "${text}": ${why}`);
  if (parts.length > 2 || parts.some((p) => !PORT.test(p))) throw bad('not a number or range');
  const [first, last] = [Number(parts[0]), Number(parts[parts.length - 1])];
  if (first < 1 || last > 65535) throw bad('out of range');
  if (last < first) throw bad('the range ends before it starts');
  return { first, last };
}

export function formatPortRange(r: PortRange): string {
  return r.first === r.last ? String(r.first) : `${r.first}-${r.last}`;
}

/** True when `err` (or its cause) says the port is taken. */
function portInUse(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 'EADDRINUSE') return true;
  }
  return false;
}

/**
 * Calls `listen(port)` for each port of the range in order until one is not in use: processes of
 * one node sharing a range each end up on the next free port (the bind itself decides, so two
 * starting at once cannot take the same one). Without a range, port 0 (the OS picks).
 */
export async function listenInRange<T>(range: PortRange | undefined, listen: (port: number) => Promise<T>, what = 'ring links'): Promise<T> {
  if (!range) return listen(0);
  for (let port = range.first; port <= range.last; port++) {
    try {
      return await listen(port);
    } catch (err) {
      if (!portInUse(err)) throw err;
    }
  }
  const n = range.last - range.first + 1;
  throw new GradsyncError(
    'E_PEER_LISTEN',
    `no free port for ${what} in ${formatPortRange(range)}: ${n === 1 ? 'it is' : `all ${n} are`} in use (widen --peer-port / GRADSYNC_PEER_PORT)`,
  );
}

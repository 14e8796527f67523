/** Which remote addresses may connect (--allow / GRADSYNC_ALLOW), on Node's net.BlockList. */
import { BlockList, isIP } from 'node:net';
import { GradsyncError } from '@gradsync/core';

export interface AllowList {
  /** True for an address inside one of the ranges, and always for loopback (this machine). */
  allows(address: string | undefined): boolean;
  /** The ranges as given, for log lines. */
  readonly ranges: readonly string[];
}

/** "10.0.0.0/8" or a single address (taken as /32 or /128). */
function addRule(list: BlockList, entry: string, source: string): void {
  const [address, prefixText, extra] = entry.split('/');
  const family = isIP(address);
  const bad = (why: string) =>
    new GradsyncError('E_FLAG', `${source}: "${entry}" is not an address range: ${why} (expected CIDR notation such as 10.0.0.0/8, 192.168.1.7 or fd00::/64)`);
  if (family === 0) throw bad(`"${address}" is not an IPv4 or IPv6 address`);
  if (extra !== undefined) throw bad('more than one "/"');
  const max = family === 4 ? 32 : 128;
  if (prefixText === undefined) {
    list.addAddress(address, family === 4 ? 'ipv4' : 'ipv6');
    return;
  }
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) throw bad(`the prefix length must be 0 to ${max}`);
  list.addSubnet(address, Number(prefixText), family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Parses --allow entries (loopback stays allowed unless `loopbackAlways` is false: local workers
 * and a dashboard on this machine come from there); each may itself hold several ranges separated by commas or spaces (the
 * form GRADSYNC_ALLOW takes). No entries at all: null (every address may connect).
 */
export function parseAllowList(entries: readonly string[], source = '--allow', options: { loopbackAlways?: boolean } = {}): AllowList | null {
  const loopbackAlways = options.loopbackAlways ?? true;
  const ranges = entries.flatMap((e) => e.split(/[\s,]+/)).filter((e) => e !== '');
  if (ranges.length === 0) return null;
  const list = new BlockList();
  for (const r of ranges) addRule(list, r, source);
  return {
    ranges,
    allows(raw) {
      if (raw === undefined) return false;
      // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
      const address = raw.startsWith('::ffff:') && isIP(raw.slice(7)) === 4 ? raw.slice(7) : raw;
      const family = isIP(address);
      if (family === 0) return false;
      if (loopbackAlways && isLoopback(address)) return true;
      return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

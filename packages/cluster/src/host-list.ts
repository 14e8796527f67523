import { GradsyncError } from '@gradsync/core';

/** The most names one host list may expand to: a typo such as node[1-1000000] is an error, not a hang. */
export const MAX_HOSTS = 100_000;

function fail(list: string, why: string): never {
  throw new GradsyncError('E_HOST_LIST', `host list "${list}": ${why}`);
}

/** Splits at the commas outside brackets: `a[1,2],b` → `a[1,2]`, `b`. */
function topLevelItems(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '[') {
      if (depth > 0) fail(list, `nested "[" at character ${i + 1}`);
      depth = 1;
    } else if (c === ']') {
      if (depth === 0) fail(list, `"]" without "[" at character ${i + 1}`);
      depth = 0;
    } else if (c === ',' && depth === 0) {
      items.push(list.slice(start, i));
      start = i + 1;
    }
  }
  if (depth > 0) fail(list, 'a "[" is never closed');
  items.push(list.slice(start));
  return items;
}

/** One bracket's contents (`01-04,07`) as the names' numbers, each padded as written (`01-04`: width 2). */
function expandRanges(list: string, ranges: string): string[] {
  const out: string[] = [];
  for (const part of ranges.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) fail(list, `"${part}" in [${ranges}] is not a number or a range FIRST-LAST`);
    const [, first, last = first] = m;
    const from = Number(first);
    const to = Number(last);
    if (to < from) fail(list, `range ${part} runs backwards`);
    if (to - from + 1 > MAX_HOSTS) fail(list, `range ${part} names more than ${MAX_HOSTS} hosts`);
    // SLURM pads to the width the range's first number is written with (node[08-10] → node08, node09, node10).
    const width = first!.length > 1 && first!.startsWith('0') ? first!.length : 0;
    for (let n = from; n <= to; n++) out.push(String(n).padStart(width, '0'));
  }
  return out;
}

/** One item (`rack[1-2]-n[01-02]`): every combination of its brackets, in order. */
function expandItem(list: string, item: string): string[] {
  let names = [''];
  const pattern = /([^[\]]*)(?:\[([^\]]*)\])?/gy;
  let m: RegExpExecArray | null;
  while (pattern.lastIndex < item.length && (m = pattern.exec(item)) !== null) {
    const [, text, ranges] = m;
    const numbers = ranges === undefined ? [''] : expandRanges(list, ranges);
    names = names.flatMap((prefix) => numbers.map((n) => `${prefix}${text}${n}`));
    if (names.length > MAX_HOSTS) fail(list, `names more than ${MAX_HOSTS} hosts`);
  }
  return names;
}

/**
 * The host names of a SLURM host list (SLURM_JOB_NODELIST, `scontrol show hostnames`' input):
 * `node[01-04,07],gpu3` → node01 … node04, node07, gpu3. Zero padding follows the range as
 * written; several brackets in one name give every combination. A malformed list is an error
 * naming it, never a guess.
 */
export function expandHostList(list: string): string[] {
  const trimmed = list.trim();
  if (trimmed === '') fail(list, 'it is empty');
  const hosts = topLevelItems(trimmed).flatMap((item) => {
    if (item === '') fail(list, 'an empty name between commas');
    return expandItem(list, item);
  });
  if (hosts.length > MAX_HOSTS) fail(list, `names more than ${MAX_HOSTS} hosts`);
  return hosts;
}

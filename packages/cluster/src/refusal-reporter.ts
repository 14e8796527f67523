/**
 * Log lines for refused connections that a flood of them cannot flood: the first few of each
 * window are told one by one, the rest counted and summed up when the next one arrives after the
 * window (or by flush()).
 */
export interface RefusalReporter {
  refused(address: string): void;
  /** Writes the summary of refusals not yet told, if any. */
  flush(): void;
}

export function refusalReporter(
  log: (line: string) => void,
  describe: (address: string) => string,
  o: {
    perWindow?: number;
    windowMs?: number;
    now?: () => number;
    /** The summary's words for what was refused (default: connections from outside --allow). */ what?: string;
  } = {},
): RefusalReporter {
  const perWindow = o.perWindow ?? 5;
  const windowMs = o.windowMs ?? 10_000;
  const now = o.now ?? Date.now;
  let windowStart = -Infinity;
  let told = 0;
  const untold = new Map<string, number>();
  const flush = () => {
    if (untold.size === 0) return;
    const n = [...untold.values()].reduce((a, b) => a + b, 0);
    const top = [...untold.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([a, c]) => `${a} (${c})`);
    log(
      `refused ${n} more ${o.what ?? 'connection(s) from outside --allow'}: ${top.join(', ')}${untold.size > 5 ? `, and ${untold.size - 5} more address(es)` : ''}`,
    );
    untold.clear();
  };
  return {
    refused(address) {
      const t = now();
      if (t - windowStart >= windowMs) {
        flush();
        windowStart = t;
        told = 0;
      }
      if (told < perWindow) {
        told++;
        log(describe(address));
      } else {
        untold.set(address, (untold.get(address) ?? 0) + 1);
      }
    },
    flush,
  };
}

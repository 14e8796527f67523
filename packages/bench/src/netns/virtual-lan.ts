/**
 * A private LAN of Linux network namespaces on this machine: one namespace per "host", each with
 * an eth0 on a bridge that lives in a namespace of its own. Needs root and iproute2's `ip` (and
 * `tc` to shape the links). The multi-host e2e test and the netns all-reduce bench use it.
 */
import { execFileSync } from 'node:child_process';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why namespaces cannot be made here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (CI runs as root)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return "iproute2's `ip` is not installed (apt-get install iproute2)";
  }
  const probe = `gsprobe${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
  } catch (err) {
    return `\`ip netns add\` fails here: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
  return null;
}

export class VirtualLan {
  private readonly namespaces: string[] = [];
  /** The host namespaces (not the bridge's). */
  private readonly hosts: string[] = [];
  private readonly bridgeNs: string;

  /** `tag` keeps names unique per test process (interface names are at most 15 characters). */
  constructor(private readonly tag = `gs${process.pid % 100000}`) {
    this.bridgeNs = `${tag}-lan`;
  }

  /** Creates the bridge and one namespace per host, `hosts` mapping a short name to ADDRESS/PREFIX. */
  create(hosts: Record<string, string>): void {
    this.add(this.bridgeNs);
    ip('-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.bridgeNs, 'link', 'set', 'br0', 'up');
    for (const [name, cidr] of Object.entries(hosts)) {
      const ns = this.ns(name);
      const port = `${this.tag}${name}`.slice(0, 15);
      this.add(ns);
      ip('link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('link', 'set', port, 'netns', this.bridgeNs);
      ip('-n', this.bridgeNs, 'link', 'set', port, 'master', 'br0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', cidr, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      this.hosts.push(ns);
    }
  }

  /**
   * Caps what every host's eth0 sends at `rateMbit` Mbit/s (a full-duplex NIC of that rate each
   * way) with a token bucket of 1 ms of traffic (at least 128 KiB, above one GSO packet). tbf,
   * not netem: this machine's kernel has no sch_netem, so no delay can be added (veth adds ~20 µs).
   */
  shape(rateMbit: number): void {
    if (!(rateMbit > 0)) throw new Error(`link shape needs a positive rate, got ${rateMbit} Mbit/s`);
    const burstBytes = Math.max(128 * 1024, Math.round((rateMbit * 1e6) / 8 / 1000));
    for (const ns of this.hosts) {
      execFileSync(
        'tc',
        ['-n', ns, 'qdisc', 'replace', 'dev', 'eth0', 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', String(burstBytes), 'latency', '100ms'],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
    }
  }

  ns(name: string): string {
    return `${this.tag}-${name}`;
  }

  /** The command prefix that runs a program on host `name`. */
  on(name: string): string[] {
    return ['ip', 'netns', 'exec', this.ns(name)];
  }

  /** Deletes every namespace made (their veth pairs go with them); never throws. */
  destroy(): void {
    this.hosts.length = 0;
    for (const ns of this.namespaces.splice(0).reverse()) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  }

  private add(ns: string): void {
    ip('netns', 'add', ns);
    this.namespaces.push(ns);
  }
}

/**
 * A private LAN of Linux network namespaces on this machine: one namespace per "host", each with
 * an eth0 on a bridge that lives in a namespace of its own. Needs root and iproute2's `ip`.
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

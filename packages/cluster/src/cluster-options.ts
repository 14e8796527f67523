/**
 * The flags a node of a multi-machine run needs, each also read from the environment so that a
 * scheduler (SLURM, Kubernetes, a loop over ssh) can start workers without templating flags.
 * A flag wins over its variable; an empty variable counts as unset.
 */
import { type Command, Option } from 'commander';
import { type AllowList, parseAllowList } from './allow-list';
import { type PortRange, parsePortRange } from './port-range';

export const CLUSTER_ENV = {
  coordinator: 'GRADSYNC_COORDINATOR',
  token: 'GRADSYNC_TOKEN',
  peerPort: 'GRADSYNC_PEER_PORT',
  peerHost: 'GRADSYNC_PEER_HOST',
  advertiseHost: 'GRADSYNC_ADVERTISE_HOST',
  allow: 'GRADSYNC_ALLOW',
} as const;

export function allowOption(what: string): Option {
  return new Option(
    '--allow <cidr...>',
    `accept ${what} only from these address ranges, e.g. 10.0.0.0/8 192.168.1.7 (loopback always); others are cut off before the handshake`,
  ).env(CLUSTER_ENV.allow);
}

/** --peer-host, --advertise-host and --peer-port: where this node's ring links listen. */
export function addPeerOptions(program: Command): Command {
  return program
    .addOption(
      new Option('--peer-host <addr>', 'address to accept ring links on (default: loopback when the coordinator is local, else all interfaces)').env(
        CLUSTER_ENV.peerHost,
      ),
    )
    .addOption(
      new Option(
        '--advertise-host <name>',
        "host name or address other workers use to reach this one (default: this machine's host name, or 127.0.0.1 when local)",
      ).env(CLUSTER_ENV.advertiseHost),
    )
    .addOption(
      new Option(
        '--peer-port <ports>',
        'port, or range FIRST-LAST, for ring links (for a firewall; workers of one node take the next free port of the range; default: any free port)',
      ).env(CLUSTER_ENV.peerPort),
    );
}

/** The flag's value, or the variable's when that is where it came from and it is not empty. */
function given(program: Command, key: string): { value: string | string[]; source: string } | undefined {
  const value = program.getOptionValue(key) as string | string[] | undefined;
  if (value === undefined) return undefined;
  const option = program.options.find((o) => o.attributeName() === key)!;
  const fromEnv = program.getOptionValueSource(key) === 'env';
  if (fromEnv && (value === '' || (Array.isArray(value) && value.every((v) => v.trim() === '')))) return undefined;
  return { value, source: fromEnv ? option.envVar! : option.long! };
}

export function peerPortFrom(program: Command): PortRange | undefined {
  const g = given(program, 'peerPort');
  return g && parsePortRange(String(g.value), g.source);
}

export function allowListFrom(program: Command): AllowList | null {
  const g = given(program, 'allow');
  return g ? parseAllowList(Array.isArray(g.value) ? g.value : [g.value], g.source) : null;
}

/** A string option's value, with an empty variable counted as unset. */
export function stringFrom(program: Command, key: string): string | undefined {
  const g = given(program, key);
  return g === undefined ? undefined : String(g.value);
}

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsUnavailable, VirtualLan } from '@gradsync/bench';
import {
  COORDINATOR_CLI,
  endOf,
  GRADSYNC_BIN,
  readMetrics,
  runCli,
  startCliStreaming,
  steps,
  syntheticDataDir,
  tempDir,
  WORKER_CLI,
  type StreamingProcess,
} from './helpers/runs';

// Three "machines" on a private LAN of network namespaces: the coordinator on 10.213.1.1, a
// one-worker node configured only through GRADSYNC_* variables on .2, a two-worker node
// (`pnpm start --join`) on .3, and an intruder on .200, outside --allow 10.213.1.0/28.
const skip = netnsUnavailable();
if (skip) console.warn(`multihost.e2e: skipped: ${skip}`);

const HOSTS = { coord: '10.213.1.1/24', a: '10.213.1.2/24', b: '10.213.1.3/24', out: '10.213.1.200/24' };
const ALLOW = '10.213.1.0/28';
const TOKEN = 'netns-s3cret';
const COORDINATOR = 'ws://10.213.1.1:7070';

describe.skipIf(skip !== null)('a run across network namespaces (real hosts, addresses and sockets)', () => {
  const lan = new VirtualLan();
  const processes: StreamingProcess[] = [];
  let dataDir: string;
  let runsDir: string;

  beforeAll(async () => {
    lan.create(HOSTS);
    dataDir = await syntheticDataDir(192, 32, 7);
    runsDir = tempDir('netns-runs');
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop(2_000)));
    lan.destroy();
  });

  const start = (host: keyof typeof HOSTS, cli: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const p = startCliStreaming(cli, args, { launcher: lan.on(host), env: { GRADSYNC_TOKEN: '', ...env } });
    processes.push(p);
    return p;
  };

  it('trains to equal replicas with a token beyond loopback; a wrong token, an address outside --allow and a dashboard request without the viewer token are refused', async () => {
    const coordinator = start('coord', COORDINATOR_CLI, [
      ...['--host', '10.213.1.1', '--port', '7070', '--token', TOKEN, '--allow', ALLOW, '--workers', '3'],
      ...['--data-dir', dataDir, '--validation', '0', '--epochs', '1', '--batch-size', '48', '--model', 'tiny-cnn'],
      ...['--allreduce', 'ring', '--hash-every', '1', '--runs-dir', runsDir, '--run-name', 'netns'],
    ]);
    await coordinator.waitForLine(/workers connect to ws:\/\/10\.213\.1\.1:7070\/worker/, 90_000);
    expect(coordinator.output()).toContain(`accepting connections only from ${ALLOW} and loopback`);

    // The dashboard beyond loopback: from another machine, every route needs the viewer token the
    // coordinator printed (a generated one); the workers' token does not open it.
    const viewerToken = (await coordinator.waitForLine(/dashboard: http:\/\/10\.213\.1\.1:7070\/\?token=(\S+)/, 30_000))[1]!;
    const [ipA, ...ipArgsA] = lan.on('a');
    const status = async (route: string, bearer?: string) =>
      (
        await promisify(execFile)(ipA, [...ipArgsA, process.execPath, '-e', HTTP_PROBE, `http://10.213.1.1:7070${route}`, bearer ?? ''], { timeout: 30_000 })
      ).stdout.trim();
    expect(await status('/api/records')).toBe('401');
    expect(await status('/')).toBe('401');
    expect(await status('/api/records', TOKEN)).toBe('401');
    expect(await status('/api/records', decodeURIComponent(viewerToken))).toBe('200');
    expect(await status(`/?token=${viewerToken}`)).toBe('303');

    // Node A: no flags at all, everything from the environment (as a scheduler would start it).
    const nodeA = start('a', WORKER_CLI, [], {
      GRADSYNC_COORDINATOR: COORDINATOR,
      GRADSYNC_TOKEN: TOKEN,
      GRADSYNC_PEER_PORT: '7100',
      GRADSYNC_ADVERTISE_HOST: '10.213.1.2',
      GRADSYNC_ALLOW: ALLOW,
    });
    await nodeA.waitForLine(/ring endpoint ws:\/\/10\.213\.1\.2:7100/, 90_000);

    // The intruder: its TCP connection to node A's ring port is cut before any HTTP answer ...
    const [ipCmd, ...ipArgs] = lan.on('out');
    const probe = await promisify(execFile)(ipCmd, [...ipArgs, process.execPath, '-e', RING_PROBE, '10.213.1.2', '7100'], { timeout: 30_000 });
    expect(probe.stdout.trim()).toMatch(/^(error ECONNRESET|closed after "")$/);
    await nodeA.waitForLine(/refused a ring connection from 10\.213\.1\.200: not in --allow 10\.213\.1\.0\/28/, 10_000);

    // ... it cannot join the coordinator even with the right token, and a wrong token from an
    // allowed address is turned away at the hello.
    const [outsider, wrongToken] = await Promise.all([
      runCli(WORKER_CLI, ['--coordinator', COORDINATOR, '--cpu', '--connect-timeout', '3'], {
        launcher: lan.on('out'),
        env: { GRADSYNC_TOKEN: TOKEN },
        timeoutMs: 90_000,
      }),
      runCli(WORKER_CLI, ['--coordinator', COORDINATOR, '--cpu'], { launcher: lan.on('a'), env: { GRADSYNC_TOKEN: 'not-the-token' }, timeoutMs: 90_000 }),
    ]);
    expect(outsider.code, outsider.stderr).toBe(1);
    expect(outsider.stderr).toMatch(/^error: cannot reach the coordinator at ws:\/\/10\.213\.1\.1:7070\/worker/m);
    expect(coordinator.output()).toMatch(/warning: refused a connection from 10\.213\.1\.200: not in --allow 10\.213\.1\.0\/28/);
    expect(wrongToken.code, wrongToken.stderr).toBe(1);
    expect(wrongToken.stderr).toMatch(/^error: .*4001.*refused: wrong token/m);
    expect(coordinator.output()).toMatch(/connection \d+ from 10\.213\.1\.2:\d+: wrong token/);

    // Node B: one launcher (the gradsync bin), two local workers, each on the next free port of the range.
    const nodeB = start(
      'b',
      GRADSYNC_BIN,
      ['start', '--join', COORDINATOR, '--workers', '2', '--worker-backend', 'auto', '--peer-port', '7100-7101', '--allow', ALLOW],
      {
        GRADSYNC_TOKEN: TOKEN,
        GRADSYNC_ADVERTISE_HOST: '10.213.1.3',
      },
    );
    expect(await coordinator.exited).toEqual({ code: 0, signal: null });
    expect(await nodeA.exited, nodeA.output().slice(-2000)).toEqual({ code: 0, signal: null });
    expect(await nodeB.exited, nodeB.output().slice(-2000)).toEqual({ code: 0, signal: null });
    expect(nodeB.output()).toContain('joining ws://10.213.1.1:7070/worker with 2 local worker(s)');
    const endpoints = [...nodeB.output().matchAll(/\[worker \d\] [\d-]+ [\d:]+ ring endpoint (ws:\S+)/g)].map((m) => m[1]).sort();
    expect(endpoints).toEqual(['ws://10.213.1.3:7100', 'ws://10.213.1.3:7101']);

    const records = readMetrics(path.join(runsDir, 'netns'));
    const st = steps(records);
    expect(st).toHaveLength(4); // 192 images / 48
    for (const s of st) {
      expect(s.workers).toHaveLength(3);
      expect(s.hashes).toHaveLength(3);
      expect(new Set(s.hashes).size).toBe(1);
    }
    expect(coordinator.output()).toMatch(/group \d+: 3 worker\(s\), ring all-reduce/);
    expect(endOf(records)?.status).toBe('completed');
  }, 300_000);
});

/** Opens a TCP connection, asks for a WebSocket upgrade, prints how it ended. */
const RING_PROBE = `
const [host, port] = process.argv.slice(-2);
const s = require('node:net').connect(Number(port), host, () =>
  s.write('GET / HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n'));
let got = '';
s.on('data', (d) => (got += d));
s.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });
s.on('close', () => console.log('closed after ' + JSON.stringify(got)));
`;

/** GETs a URL (with a bearer token when one is given) and prints the status code. */
const HTTP_PROBE = `
const [url, bearer] = process.argv.slice(-2);
fetch(url, { redirect: 'manual', headers: bearer ? { authorization: 'Bearer ' + bearer } : {} })
  .then((r) => console.log(r.status), (e) => console.log('error ' + (e.cause?.code ?? e.message)));
`;

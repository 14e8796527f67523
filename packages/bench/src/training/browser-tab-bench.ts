/**
 * A browser tab beside a Node worker. A tab cannot accept connections, so a group with a tab
 * reduces through the coordinator (star); this measures what that costs against the Node-only
 * alternatives on the same data, batch and engine (tfjs wasm, one thread, in both): two Node
 * workers over the star, and over the ring. Both sides run wasm so the comparison is of where the
 * worker runs and how it reduces, not of backends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GradsyncError } from '@gradsync/core';
import { makeSyntheticCifar10, writeCifar10Binary } from '@gradsync/data';
import { readJsonl, type StepRecord, type WorkerRecord } from '@gradsync/metrics';
import { steadyState, type SteadyState } from './steady-state';
import { benchTraining, type TrainingBenchOptions } from './training-bench';
import { tsxCliArgs } from './tsx-cli';

const resolve = createRequire(import.meta.url).resolve;
const COORDINATOR_CLI = pathToFileURL(resolve('@gradsync/coordinator/cli/coordinator'));
const WORKER_CLI = pathToFileURL(resolve('@gradsync/worker/cli/worker'));

export interface BrowserTabRun {
  /** What the two ranks were, in rank order (join order). */
  members: string;
  allreduce: 'ring' | 'star';
  steady: SteadyState;
}

export interface BrowserTabResult {
  model: string;
  /** The tab's user agent and device, as its hello said. */
  tab: { host: string; device: string };
  nodeAndTabStar: BrowserTabRun;
  nodeNodeStar: BrowserTabRun;
  nodeNodeRing: BrowserTabRun;
}

export type BrowserTabOptions = Omit<TrainingBenchOptions, 'workerCounts' | 'workerBackend' | 'allreduce'>;

/** The Chromium to drive: $CHROMIUM_PATH, else /usr/bin/chromium; null when there is none. */
export function chromiumExecutable(env: NodeJS.ProcessEnv = process.env): string | null {
  return [env.CHROMIUM_PATH, '/usr/bin/chromium'].find((p): p is string => !!p && existsSync(p)) ?? null;
}

function startCli(cli: URL, args: string[]): { child: ChildProcess; output: () => string; line: (re: RegExp, ms: number) => Promise<RegExpExecArray> } {
  const child = spawn(process.execPath, tsxCliArgs(cli, args), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const line = (re: RegExp, ms: number) =>
    new Promise<RegExpExecArray>((resolveLine, reject) => {
      const deadline = Date.now() + ms;
      const poll = setInterval(() => {
        const m = re.exec(out);
        if (m) {
          clearInterval(poll);
          resolveLine(m);
        } else if (child.exitCode !== null || Date.now() > deadline) {
          clearInterval(poll);
          reject(new GradsyncError('E_BENCH', `no line ${re} from ${cli.pathname}; its output:\n${out.slice(-3000)}`));
        }
      }, 100);
    });
  return { child, output: () => out, line };
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** One run: a coordinator, a Node wasm worker, and a headless Chromium on the dashboard pressing "Join this run". */
async function nodeAndTab(
  o: BrowserTabOptions,
  chromium: string,
  dataDir: string,
  runsDir: string,
): Promise<{ run: BrowserTabRun; tab: BrowserTabResult['tab'] }> {
  const { chromium: playwright } = await import('playwright-core');
  const name = 'bench-node-tab';
  const coordinator = startCli(COORDINATOR_CLI, [
    ...['--workers', '2', '--browser-workers', '--model', o.model, '--batch-size', String(o.batchSize), '--epochs', String(o.epochs)],
    ...['--validation', String(o.validationImages), '--data-dir', dataDir, '--runs-dir', runsDir, '--run-name', name, '--port', '0'],
    ...(o.split ? ['--split', o.split] : []),
  ]);
  const processes = [coordinator.child];
  const browser = await playwright.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox'] });
  try {
    const url = (await coordinator.line(/dashboard: (http:\/\/\S+)/, 120_000))[1];
    const workerUrl = (await coordinator.line(/workers connect to (ws:\/\/\S+)/, 10_000))[1];
    processes.push(startCli(WORKER_CLI, ['--coordinator', workerUrl, '--backend', 'wasm']).child);
    const page = await browser.newPage();
    await page.goto(url);
    await page.locator('[data-testid="join-button"]').click({ timeout: 60_000 });
    await coordinator.line(/run completed/, o.timeoutMs);
  } finally {
    await browser.close();
    processes.forEach(killGroup);
  }
  const { records } = readJsonl(path.join(runsDir, name, 'metrics.jsonl'));
  const members = records.filter((r): r is WorkerRecord => r.kind === 'worker' && r.status === 'joining').sort((a, b) => a.rank - b.rank);
  const tab = members.find((m) => m.host.startsWith('browser tab'));
  if (!tab) throw new GradsyncError('E_BENCH', 'the tab never joined the run');
  const steps = records.filter((r): r is StepRecord => r.kind === 'step');
  return {
    run: { members: members.map((m) => (m === tab ? 'tab (wasm)' : 'node (wasm)')).join(' + '), allreduce: 'star', steady: steadyState(steps, o.warmupSteps) },
    tab: { host: tab.host, device: tab.device },
  };
}

export async function benchBrowserTab(o: BrowserTabOptions): Promise<BrowserTabResult | { skipped: string }> {
  const chromium = chromiumExecutable();
  if (!chromium) return { skipped: 'no Chromium (apt-get install -y chromium, or set CHROMIUM_PATH)' };
  const dir = mkdtempSync(path.join(tmpdir(), 'gradsync-bench-tab-'));
  try {
    const dataDir = path.join(dir, 'data');
    await writeCifar10Binary(dataDir, makeSyntheticCifar10({ train: o.trainImages, test: o.testImages, seed: 11 }));
    o.log?.('  a Node worker and a browser tab (star)...');
    const { run: nodeAndTabStar, tab } = await nodeAndTab(o, chromium, dataDir, path.join(dir, 'runs'));
    o.log?.(`    ${nodeAndTabStar.steady.medianImagesPerSec.toFixed(1)} img/s`);
    const nodePair = async (allreduce: 'ring' | 'star'): Promise<BrowserTabRun> => {
      o.log?.(`  two Node workers (${allreduce})...`);
      const r = await benchTraining({ ...o, workerCounts: [2], workerBackend: 'wasm,wasm', allreduce });
      return { members: 'node (wasm) + node (wasm)', allreduce, steady: r.runs[0].steady };
    };
    return { model: o.model, tab, nodeAndTabStar, nodeNodeStar: await nodePair('star'), nodeNodeRing: await nodePair('ring') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

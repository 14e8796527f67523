import { watchFile, unwatchFile } from 'node:fs';
import { Command } from 'commander';
import { intOption } from '@gradsync/core/config';
import { GradsyncError, runCli } from '@gradsync/core/errors';
import { DEFAULT_DASHBOARD_DIST, isDashboardBuilt, MetricsFeed, RunsFolder, startDashboardServer } from '../dashboard-server/index';
import { type BadLine, JsonlTail } from '../dashboard-server/jsonl-tail';
import { resolveDashboardTarget } from '../dashboard-server/runs-folder';

const log = (line: string) => process.stderr.write(`${line}\n`);

await runCli(async () => {
  const program = new Command('pnpm dashboard')
    .description("Serve a run's metrics.jsonl to the web dashboard, or compare the runs of a folder.")
    .argument('<run>', 'run folder (runs/<name>) or a metrics.jsonl file; a folder of runs (runs/) opens the compare view')
    .option('--host <host>', 'interface to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--port <n>', 'port', intOption('--port', 0), 7071)
    .option('--follow', 'keep reading records appended to the file (a run still in progress)')
    .showHelpAfterError();
  program.parse();
  const o = program.opts<{ host: string; port: number; follow?: boolean }>();
  if (o.port > 65_535) throw new GradsyncError('E_FLAG', `--port must be at most 65535, got ${o.port}`);
  const target = resolveDashboardTarget(program.args[0]);
  if (target.kind === 'runs') {
    if (o.follow) log('note: --follow is for one run; the compare view reads each run again when the page reloads');
    const server = await startDashboardServer({ host: o.host, port: o.port, runs: new RunsFolder(target.dir) });
    warnIfNotBuilt();
    log(`${target.names.length} runs in ${target.dir}: ${target.names.join(', ')}; Ctrl-C to stop`);
    process.stdout.write(`dashboard: ${server.url}\n`);
    await untilInterrupted();
    await server.close();
    return;
  }
  const file = target.file;

  const tail = new JsonlTail(file);
  const reportBad = (bad: BadLine[]) => {
    for (const b of bad) log(`warning: ${file} line ${b.line} is not a metric record (${b.reason}); skipped`);
  };
  const first = tail.read(!o.follow);
  reportBad(first.badLines);
  const feed = new MetricsFeed({ history: first.records });

  const server = await startDashboardServer({ host: o.host, port: o.port, feed });
  warnIfNotBuilt();
  log(`${first.records.length} records from ${file}${o.follow ? ', following new ones' : ''}; Ctrl-C to stop`);
  process.stdout.write(`dashboard: ${server.url}\n`);

  if (o.follow) {
    watchFile(file, { interval: 1000 }, () => {
      try {
        const r = tail.read();
        if (r.restarted) log(`warning: ${file} was replaced; reload the page to drop the old records`);
        reportBad(r.badLines);
        for (const record of r.records) feed.publish(record);
      } catch (err) {
        log(`warning: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  await untilInterrupted();
  unwatchFile(file);
  await server.close();
});

function warnIfNotBuilt(): void {
  if (!isDashboardBuilt(DEFAULT_DASHBOARD_DIST)) log(`warning: the dashboard is not built (${DEFAULT_DASHBOARD_DIST}); run \`pnpm build\` first`);
}

function untilInterrupted(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

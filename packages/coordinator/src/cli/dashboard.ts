import { watchFile, unwatchFile } from 'node:fs';
import { intOption } from '@gradsync/train';
import { GradsyncError } from '@gradsync/core';
import { gradsyncProgram, logLine, runCli } from '@gradsync/core/node';
import { addServerSecurityOptions, randomSecret, refusalReporter, serverSecurityFrom } from '@gradsync/cluster';
import { ensureDashboardBuilt, MetricsFeed, RunsFolder, startDashboardServer, type BadLine, JsonlTail, resolveDashboardTarget } from '@gradsync/dashboard/node';

const log = (line: string) => logLine('info', line);
const warn = (line: string) => logLine('warn', line);

await runCli(async () => {
  const program = addServerSecurityOptions(gradsyncProgram('pnpm dashboard'))
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
  const security = serverSecurityFrom(program);
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(o.host);
  // Beyond loopback the run's metrics and images are for those given the token, as on the coordinator.
  const viewerToken = security.viewerToken ?? (loopback ? undefined : randomSecret());
  if (!loopback && !security.tls)
    warn(`no TLS: the viewer token and every metric cross the network from ${o.host} in clear text; give --tls-cert and --tls-key`);
  const refusals = refusalReporter(warn, (who) => `refused a dashboard request from ${who}`, { what: 'dashboard request(s) refused' });
  const serverOptions = {
    host: o.host,
    port: o.port,
    tls: security.tls,
    viewerToken,
    onRefused: (a: string, why: string) => refusals.refused(`${a} (${why})`),
  };

  const page = await ensureDashboardBuilt(log);
  if (!page.ok) throw new GradsyncError('E_DASHBOARD', `no dashboard page: ${page.why}`);

  if (target.kind === 'runs') {
    if (o.follow) log('note: --follow is for one run; the compare view reads each run again when the page reloads');
    const server = await startDashboardServer({ ...serverOptions, runs: new RunsFolder(target.dir) });
    log(`${target.names.length} runs in ${target.dir}: ${target.names.join(', ')}; Ctrl-C to stop`);
    process.stdout.write(`dashboard: ${server.openUrl}\n`);
    await untilInterrupted();
    refusals.flush();
    await server.close();
    return;
  }

  const file = target.file;
  const tail = new JsonlTail(file);
  const reportBad = (bad: BadLine[]) => {
    for (const b of bad) warn(`${file} line ${b.line} is not a metric record (${b.reason}); skipped`);
  };
  const first = tail.read(!o.follow);
  reportBad(first.badLines);
  const feed = new MetricsFeed({ history: first.records });
  const server = await startDashboardServer({ ...serverOptions, feed });
  log(`${first.records.length} records from ${file}${o.follow ? ', following new ones' : ''}; Ctrl-C to stop`);
  process.stdout.write(`dashboard: ${server.openUrl}\n`);

  if (o.follow) {
    watchFile(file, { interval: 1000 }, () => {
      try {
        const r = tail.read();
        if (r.restarted) warn(`${file} was replaced; reload the page to drop the old records`);
        reportBad(r.badLines);
        for (const record of r.records) feed.publish(record);
      } catch (err) {
        warn(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  await untilInterrupted();
  unwatchFile(file);
  refusals.flush();
  await server.close();
});

function untilInterrupted(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

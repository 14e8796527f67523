import { MetricsFeed, startDashboardServer } from '../packages/coordinator/src/dashboard-server/index';
import { byTestId, ensureDashboardBuilt, launchBrowser, waitForAttribute } from './helpers/browser';
import { ScriptedRun } from './helpers/scripted-run';

ensureDashboardBuilt();
const N = Number(process.argv[2] ?? 35000);
const script = new ScriptedRun('perf', N + 400);
const history = [...script.start(), ...script.steps(N)];
const feed = new MetricsFeed({ history });
const server = await startDashboardServer({ host: '127.0.0.1', port: 0, feed });
const b = await launchBrowser({ width: Number(process.argv[3] ?? 1440), height: 900 });
await b.page.addInitScript(() => {
  (window as any).__long = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) (window as any).__long.push(Math.round(e.duration)); }).observe({ type: 'longtask', buffered: true });
});
const t0 = Date.now();
await b.page.goto(server.url);
await waitForAttribute(b.page, 'loss-chart', 'data-steps', (s) => s === String(N), 60_000);
console.log(`history of ${history.length} records drawn in ${Date.now() - t0} ms; points ${await byTestId(b.page, 'loss-chart').getAttribute('data-points')}`);
console.log('long tasks during load', await b.page.evaluate(() => (window as any).__long.splice(0)));
if (process.env.NOTRANS) await b.page.addStyleTag({ content: '*{transition:none!important}' });
if (process.env.NOCHARTS) await b.page.addStyleTag({ content: '.chart-grid{display:none!important}' });
if (process.env.NOSTICKY) await b.page.addStyleTag({ content: '.top{position:static!important}' });
const cdp = await b.page.context().newCDPSession(b.page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
await cdp.send('Profiler.start');
const t1 = Date.now();
for (let i = 0; i < 20; i++) {
  for (const r of script.steps(20)) feed.publish(r);
  await new Promise((r) => setTimeout(r, 100));
}
await waitForAttribute(b.page, 'loss-chart', 'data-steps', (s) => s === String(N + 400), 20_000);
const { profile } = (await cdp.send('Profiler.stop')) as any;
const self = new Map<string, number>();
const dt = profile.timeDeltas as number[];
const byId = new Map<number, any>(profile.nodes.map((n: any) => [n.id, n]));
profile.samples.forEach((id: number, i: number) => {
  const n = byId.get(id);
  const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
});
console.log([...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${v.toFixed(0)}ms ${k}`).join('\n'));
console.log(`400 live steps at 200/s, drawn by ${Date.now() - t1} ms`);

console.log('long tasks during live', await b.page.evaluate(() => (window as any).__long));
if (process.argv[4]) await b.page.screenshot({ path: process.argv[4], fullPage: true });
console.log('errors', b.errors);
await b.close();
await server.close();

import { RingAllReducer } from './index';
const a = await RingAllReducer.listen({ timeoutMs: 30000 });
const b = await RingAllReducer.listen({ timeoutMs: 30000 });
const peers = [a.url, b.url];
await Promise.all([a.connect({ rank: 0, world: 2, peers, runId: 'x' }), b.connect({ rank: 1, world: 2, peers, runId: 'x' })]);
const n = 676264 / 4;
const x = new Float32Array(n).fill(1),
  y = new Float32Array(n).fill(2);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let op = 1; op <= 3000; op++) await Promise.all([a.allReduceSum(x.fill(1), op), b.allReduceSum(y.fill(2), op)]);
const c = process.cpuUsage(cpu0);
console.log(
  'ms/op',
  (performance.now() - t0) / 3000,
  'cpu ms/op',
  (c.user + c.system) / 1000 / 3000,
  'user',
  c.user / 3000 / 1000,
  'sys',
  c.system / 3000 / 1000,
);
await Promise.all([a.close(), b.close()]);

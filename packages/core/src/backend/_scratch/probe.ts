import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const flags = process.argv.slice(2);
const gpu = create(flags);
const t0 = performance.now();
try {
  const a = await gpu.requestAdapter({ featureLevel: 'compatibility' } as any);
  console.log('adapter', a && { info: a.info, features: [...a.features], fallback: (a as any).isFallbackAdapter, featureLevel: (a as any).featureLevel });
  if (a) { const d = await a.requestDevice(); console.log('device ok', d.limits.maxStorageBufferBindingSize); d.destroy(); }
} catch (e) { console.log('rejected:', String((e as Error).message ?? e)); }
console.log('ms', performance.now() - t0);

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createLogger, defineConfig, type Plugin } from 'vite';

/** tfjs-backend-wasm's binaries a tab worker loads (single-threaded builds: the page is not cross-origin isolated). */
const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];

/** Puts the wasm binaries into dist/tfjs-wasm/, where the tab worker's setWasmPaths points. */
function tfjsWasmBinaries(): Plugin {
  return {
    name: 'gradsync-tfjs-wasm-binaries',
    generateBundle() {
      const dist = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
      for (const name of WASM_BINARIES) this.emitFile({ type: 'asset', fileName: `tfjs-wasm/${name}`, source: readFileSync(path.join(dist, name)) });
    },
  };
}

/** zod's sources carry @__PURE__ comments Rollup cannot place: harmless, and noisy at every install. */
function quietLogger() {
  const logger = createLogger('warn');
  const warn = logger.warn.bind(logger);
  logger.warn = (message, options) => {
    if (!message.includes('contains an annotation that Rollup cannot interpret')) warn(message, options);
  };
  return logger;
}

// Everything is bundled into dist/ (no fonts, scripts or styles from the network);
// relative asset URLs so the coordinator can serve dist/ from any path. The tab worker is an ES
// module worker, so TensorFlow.js's WebGPU backend is split off and loaded only when used.
export default defineConfig({
  base: './',
  plugins: [tfjsWasmBinaries()],
  customLogger: quietLogger(),
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 300 },
  server: { proxy: { '/feed': { target: 'ws://127.0.0.1:7071', ws: true }, '/api': 'http://127.0.0.1:7071' } },
});

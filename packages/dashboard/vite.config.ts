import { defineConfig } from 'vite';

// Everything is bundled into dist/ (no fonts, scripts or styles from the network);
// relative asset URLs so the coordinator can serve dist/ from any path.
export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 300 },
  server: { proxy: { '/feed': { target: 'ws://127.0.0.1:7071', ws: true }, '/api': 'http://127.0.0.1:7071' } },
});

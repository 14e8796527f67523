// Builds the dashboard page into dist/ with Vite's API. Run by this package's postinstall (so
// the page exists right after `pnpm install`) and by the coordinator when dist/ is missing.
// `--at-install`: a failed build prints a warning instead of failing the whole install; the
// coordinator tries again at start and says why when it cannot.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const atInstall = process.argv.includes('--at-install');
const started = performance.now();
try {
  const { build } = await import('vite');
  await build({ root, logLevel: 'warn' });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`@gradsync/dashboard: built the page into ${fileURLToPath(new URL('../dist/', import.meta.url))} in ${seconds} s`);
} catch (err) {
  const why = err instanceof Error ? err.message : String(err);
  if (atInstall) {
    console.warn(`@gradsync/dashboard: warning: could not build the page (${why}); the coordinator will try again when it starts`);
  } else {
    console.error(`@gradsync/dashboard: cannot build the page: ${why}`);
    process.exitCode = 1;
  }
}

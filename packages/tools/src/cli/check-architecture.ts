// `pnpm check:architecture`: the package layout's rules (Note [Package entries]); run by `pnpm lint`.
import { fileURLToPath } from 'node:url';
import { checkArchitecture } from '../architecture/repository-rules';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const report = await checkArchitecture(root);
for (const line of report.violations) process.stderr.write(`${line}\n`);
if (report.violations.length > 0) {
  process.stderr.write(`architecture: ${report.violations.length} violation(s) in ${report.modules} modules\n`);
  process.exitCode = 1;
} else {
  process.stdout.write(
    `architecture: ${report.modules} modules, no deep imports, no import cycles (files, folders, packages), no file over the length limit\n`,
  );
}

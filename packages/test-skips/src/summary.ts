import type { SkipNote } from './skip-note';

/** The one command that installs what the skipped suites need; null when none names a package. */
export function installCommand(notes: readonly SkipNote[]): string | null {
  const apt = [...new Set(notes.filter((n) => !n.optIn).flatMap((n) => n.apt ?? []))];
  const then = [...new Set(notes.filter((n) => !n.optIn && n.then).map((n) => n.then!))];
  if (apt.length === 0 && then.length === 0) return null;
  const parts = apt.length > 0 ? [`sudo apt-get install -y ${apt.join(' ')}`] : [];
  return [...parts, ...then].join(' && ');
}

/**
 * The end-of-run summary: suites that did not run for want of something, then the opt-in ones,
 * then the install command. Empty when every suite ran. Repeated notes (one file noting the same
 * suite twice, or a rerun) appear once.
 */
export function formatSkipSummary(notes: readonly SkipNote[]): string {
  const unique = [...new Map(notes.map((n) => [n.suite, n])).values()];
  if (unique.length === 0) return '';
  const missing = unique.filter((n) => !n.optIn);
  const optIn = unique.filter((n) => n.optIn);
  const lines: string[] = [];
  if (missing.length > 0) {
    lines.push(`${missing.length} test suite(s) skipped on this machine (the run above is green without them):`);
    for (const n of missing) lines.push(`  - ${n.suite}: ${n.why}`);
  }
  if (optIn.length > 0) {
    lines.push(`${optIn.length} opt-in suite(s) not run (nothing missing; ask for them):`);
    for (const n of optIn) lines.push(`  - ${n.suite}: set ${n.optIn}`);
  }
  const install = installCommand(unique);
  if (install) lines.push(`To run the skipped ones, install what they need, then run pnpm test again:`, `  ${install}`);
  return lines.join('\n');
}

import type { MetricRecord, RunSummary } from '@gradsync/metrics';
import { runRecordsPath, RUNS_PATH, VIEW_PATH } from '../../shared/routes';

/**
 * The runs of `pnpm dashboard runs/`, or null when this server serves one run live (its
 * /api/view says "live"; an unreachable or older server counts as live too).
 */
export async function fetchRunList(): Promise<RunSummary[] | null> {
  try {
    const view = (await (await fetch(VIEW_PATH, { cache: 'no-store' })).json()) as { view?: string };
    if (view.view !== 'compare') return null;
    const res = await fetch(RUNS_PATH, { cache: 'no-store' });
    return res.ok ? ((await res.json()) as RunSummary[]) : null;
  } catch {
    return null;
  }
}

export async function fetchRunRecords(name: string): Promise<MetricRecord[]> {
  const res = await fetch(runRecordsPath(name), { cache: 'no-store' });
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
  return (await res.json()) as MetricRecord[];
}

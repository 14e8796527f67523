import type { MetricRecord, RunSummary } from '@gradsync/core/metrics';

/** The runs of `pnpm dashboard runs/`, or null when this server serves one run (no /api/runs). */
export async function fetchRunList(): Promise<RunSummary[] | null> {
  try {
    const res = await fetch('/api/runs', { cache: 'no-store' });
    return res.ok ? ((await res.json()) as RunSummary[]) : null;
  } catch {
    return null;
  }
}

export async function fetchRunRecords(name: string): Promise<MetricRecord[]> {
  const res = await fetch(`/api/runs/${encodeURIComponent(name)}/records`, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
  return (await res.json()) as MetricRecord[];
}

import { describe, expect, it } from 'vitest';
import { refusalReporter } from './refusal-reporter';

describe('refusalReporter', () => {
  it('tells the first refusals of a window one by one and sums up the rest', () => {
    const lines: string[] = [];
    let t = 0;
    const r = refusalReporter(
      (l) => lines.push(l),
      (a) => `refused ${a}`,
      { perWindow: 2, windowMs: 1000, now: () => t },
    );
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.3', '10.0.0.4']) r.refused(a);
    expect(lines).toEqual(['refused 10.0.0.1', 'refused 10.0.0.2']);
    t = 1500; // the next window: the summary first, then this one told
    r.refused('10.0.0.5');
    expect(lines.slice(2)).toEqual(['refused 3 more connection(s) from outside --allow: 10.0.0.3 (2), 10.0.0.4 (1)', 'refused 10.0.0.5']);
    r.flush();
    expect(lines).toHaveLength(4);
  });
});

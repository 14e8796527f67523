import type { RunRecord } from '@gradsync/metrics';
import { card, h } from '../view-kit/dom';

/** Flattens nested objects to dotted keys: { augment: { flip: true } } → [['augment.flip', 'true']]. */
export function flattenConfig(value: unknown, prefix = ''): [string, string][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return prefix ? [[prefix, '{}']] : [];
    return entries.flatMap(([k, v]) => flattenConfig(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, typeof value === 'string' ? value : JSON.stringify(value)]];
}

/** The run's configuration and data set sizes. */
export class ConfigPanel {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;

  constructor() {
    const c = card('Configuration', 'run-config');
    this.body = c.body;
    this.body.append(h('p', { class: 'empty', text: 'Waiting for the run record.' }));
    this.root = c.root;
  }

  update(run: RunRecord | null): void {
    if (!run) return;
    const facts: [string, string][] = [
      ['run', run.runName],
      [
        'images',
        `${run.trainCount.toLocaleString('en-US')} train · ${run.validationCount.toLocaleString('en-US')} validation · ${run.testCount.toLocaleString('en-US')} test`,
      ],
      ['steps per epoch', String(run.stepsPerEpoch)],
      ['classes', run.classNames.join(', ')],
    ];
    const settings = flattenConfig(run.config).filter(([k]) => k !== 'runName');
    this.body.replaceChildren(
      h('dl', { class: 'kv' }, ...facts.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])),
      h('div', { class: 'kv-title', text: 'run configuration' }),
      h('dl', { class: 'kv columns' }, ...settings.map(([k, v]) => h('div', { title: `${k} = ${v}` }, h('dt', { text: k }), h('dd', { text: v })))),
    );
  }
}

import type { EndRecord, MessageRecord } from '@gradsync/metrics';
import { card, h } from '../view-kit/dom';
import { formatDuration, formatPercent } from '../view-kit/format';

/** The end status of the run and its messages (newest first). */
export class StatusPanel {
  readonly root: HTMLElement;
  private readonly end: HTMLElement;
  private readonly log: HTMLElement;

  constructor() {
    const c = card('Status');
    this.end = h('div', { class: 'end-status', testId: 'end-status', attrs: { 'data-status': 'running' } });
    this.updateEnd(null);
    this.log = h('ol', { class: 'messages', testId: 'messages' });
    c.body.append(this.end, this.log);
    this.root = c.root;
  }

  updateEnd(end: EndRecord | null): void {
    if (!end) {
      this.end.dataset.status = 'running';
      this.end.replaceChildren(h('span', { class: 'muted', text: 'no end record yet: the run is going on (or has not started)' }));
      return;
    }
    this.end.dataset.status = end.status;
    const facts = [`${end.epochs} epochs`, `${end.steps.toLocaleString('en-US')} steps`, formatDuration(end.wallSec)];
    if (end.test) facts.push(`test accuracy ${formatPercent(end.test.accuracy)}`, `test loss ${end.test.loss.toFixed(4)}`);
    this.end.replaceChildren(
      h('span', { class: `pill ${end.status}`, text: end.status }),
      h('span', { text: facts.join(' · ') }),
      ...(end.reason ? [h('div', { class: 'reason', text: end.reason })] : []),
    );
  }

  updateMessages(messages: MessageRecord[]): void {
    const shown = messages.slice(-50).reverse();
    this.log.replaceChildren(
      ...shown.map((m) =>
        h(
          'li',
          { class: `msg ${m.level}` },
          h('time', { text: new Date(m.t).toLocaleTimeString([], { hour12: false }) }),
          h('span', { class: 'level', text: m.level }),
          h('span', { text: m.text }),
        ),
      ),
    );
  }
}

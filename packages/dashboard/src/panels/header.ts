import { h, setText } from '../view-kit/dom';
import type { FeedStatus } from '../view-kit/feed-client';

/** Title bar: run name, connection state, record count. */
export class Header {
  readonly root: HTMLElement;
  private readonly runName = h('span', { class: 'run-name', testId: 'run-name', text: 'no run yet' });
  private readonly connection = h('span', { class: 'pill connecting', testId: 'connection-status', text: 'connecting' });
  private readonly counts = h('span', { class: 'muted' });

  constructor() {
    this.root = h(
      'header',
      { class: 'top' },
      h('span', { class: 'brand' }, h('span', { class: 'logo', text: '◆' }), 'gradsync'),
      this.runName,
      h('span', { class: 'spacer' }),
      this.counts,
      this.connection,
    );
  }

  setRun(name: string | null, records: number): void {
    setText(this.runName, name ?? 'no run yet');
    setText(this.counts, `${records.toLocaleString('en-US')} records`);
  }

  setConnection(status: FeedStatus | 'ended', detail?: string): void {
    // A refusal's explanation is the page's banner (live-view.ts); the pill keeps the word.
    setText(this.connection, status);
    this.connection.className = `pill ${status}`;
    this.connection.dataset.status = status;
    this.connection.title = detail ?? '';
  }
}

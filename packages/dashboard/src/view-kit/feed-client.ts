import type { MetricRecord } from '@gradsync/metrics';
import { FEED_PATH } from '../../shared/routes';

/** Frames the coordinator sends on /feed: the whole history first, then one record per frame. */
export type FeedMessage = { type: 'history'; records: MetricRecord[] } | { type: 'record'; record: MetricRecord };

export type FeedStatus = 'connecting' | 'live' | 'reconnecting' | 'refused';

export interface FeedHandlers {
  /** The full history; called again after every reconnect (the state should start over). */
  onHistory(records: MetricRecord[]): void;
  onRecord(record: MetricRecord): void;
  onStatus(status: FeedStatus, detail?: string): void;
}

/** Parses one text frame; null for anything that is not a feed message. */
export function parseFeedMessage(text: string): FeedMessage | null {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof msg !== 'object' || msg === null) return null;
  const m = msg as { type?: unknown; records?: unknown; record?: unknown };
  if (m.type === 'history' && Array.isArray(m.records)) return m as FeedMessage;
  if (m.type === 'record' && typeof m.record === 'object' && m.record !== null) return m as FeedMessage;
  return null;
}

/** The server's close code for a feed without a valid viewer credential (core's CLOSE.wrongToken). */
const CLOSE_UNAUTHORIZED = 4001;

/**
 * What the page does when its feed closes: a refusal (no valid viewer credential, e.g. the
 * coordinator restarted with another viewer token) will not change on retry, so it stops and says
 * why; anything else is retried after `delayMs`.
 */
export function afterFeedClose(
  code: number,
  reason: string,
  delayMs: number,
): { status: 'refused'; detail: string } | { status: 'reconnecting'; detail: string } {
  if (code === CLOSE_UNAUTHORIZED) {
    const why = reason.replace(/^refused:\s*/, '') || 'no reason given';
    return {
      status: 'refused',
      detail:
        `The coordinator refused this page's live feed (${why}): this viewer link's token is wrong or expired ` +
        '(a coordinator started again makes a new one unless --viewer-token is given). ' +
        'Open the dashboard URL the coordinator printed, the one ending in ?token=…',
    };
  }
  return { status: 'reconnecting', detail: `connection lost; retrying in ${(delayMs / 1000).toFixed(1)} s` };
}

/** The feed URL on the host and port the page came from. */
export function feedUrl(loc: Pick<Location, 'protocol' | 'host'>): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${FEED_PATH}`;
}

/** Connects, and reconnects with back-off (0.5 s doubling up to 5 s) whenever the socket drops. */
export function connectFeed(url: string, handlers: FeedHandlers): { close(): void } {
  let socket: WebSocket | null = null;
  let delay = 500;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const open = (first: boolean) => {
    handlers.onStatus(first ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      delay = 500;
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      const msg = parseFeedMessage(ev.data);
      if (!msg) return;
      if (msg.type === 'history') {
        handlers.onHistory(msg.records);
        handlers.onStatus('live');
      } else handlers.onRecord(msg.record);
    };
    ws.onclose = (ev) => {
      if (closed || socket !== ws) return;
      const next = afterFeedClose(ev.code, ev.reason, delay);
      handlers.onStatus(next.status, next.detail);
      if (next.status === 'refused') return;
      timer = setTimeout(() => open(false), delay);
      delay = Math.min(delay * 2, 5000);
    };
  };
  open(true);
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      socket?.close();
    },
  };
}

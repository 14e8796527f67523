import { describe, expect, it } from 'vitest';
import { afterFeedClose, feedUrl, parseFeedMessage } from './feed-client';

describe('feed client', () => {
  it('parses history and record frames, rejects others', () => {
    expect(parseFeedMessage('{"type":"history","records":[]}')).toEqual({ type: 'history', records: [] });
    expect(parseFeedMessage('{"type":"record","record":{"kind":"message"}}')).toMatchObject({ type: 'record' });
    expect(parseFeedMessage('{"type":"record"}')).toBeNull();
    expect(parseFeedMessage('not json')).toBeNull();
    expect(parseFeedMessage('42')).toBeNull();
  });

  it('stops and says why on a refusal (4001), retries on any other close', () => {
    expect(afterFeedClose(4001, 'no viewer token', 500)).toEqual({
      status: 'refused',
      detail: expect.stringMatching(
        /^The coordinator refused this page's live feed \(no viewer token\): this viewer link's token is wrong or expired .*Open the dashboard URL the coordinator printed, the one ending in \?token=/,
      ),
    });
    // An older coordinator's reason, which began with "refused:", is not repeated.
    expect(afterFeedClose(4001, 'refused: wrong viewer token', 500).detail).toMatch(/live feed \(wrong viewer token\)/);
    expect(afterFeedClose(4001, '', 500).detail).toMatch(/live feed \(no reason given\)/);
    expect(afterFeedClose(1006, '', 2000)).toEqual({ status: 'reconnecting', detail: 'connection lost; retrying in 2.0 s' });
  });

  it('builds the feed URL from the page location', () => {
    expect(feedUrl({ protocol: 'http:', host: '127.0.0.1:7071' })).toBe('ws://127.0.0.1:7071/feed');
    expect(feedUrl({ protocol: 'https:', host: 'example.org' })).toBe('wss://example.org/feed');
  });
});

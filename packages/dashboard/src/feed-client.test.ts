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
    expect(afterFeedClose(4001, 'refused: no viewer token', 500)).toEqual({
      status: 'refused',
      detail: expect.stringMatching(/^refused: no viewer token; open the dashboard URL .*\?token=/),
    });
    expect(afterFeedClose(4001, '', 500).detail).toMatch(/^refused by the server/);
    expect(afterFeedClose(1006, '', 2000)).toEqual({ status: 'reconnecting', detail: 'connection lost; retrying in 2.0 s' });
  });

  it('builds the feed URL from the page location', () => {
    expect(feedUrl({ protocol: 'http:', host: '127.0.0.1:7071' })).toBe('ws://127.0.0.1:7071/feed');
    expect(feedUrl({ protocol: 'https:', host: 'example.org' })).toBe('wss://example.org/feed');
  });
});

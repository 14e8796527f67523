import { describe, expect, it } from 'vitest';
import { feedUrl, parseFeedMessage } from './feed-client';

describe('feed client', () => {
  it('parses history and record frames, rejects others', () => {
    expect(parseFeedMessage('{"type":"history","records":[]}')).toEqual({ type: 'history', records: [] });
    expect(parseFeedMessage('{"type":"record","record":{"kind":"message"}}')).toMatchObject({ type: 'record' });
    expect(parseFeedMessage('{"type":"record"}')).toBeNull();
    expect(parseFeedMessage('not json')).toBeNull();
    expect(parseFeedMessage('42')).toBeNull();
  });

  it('builds the feed URL from the page location', () => {
    expect(feedUrl({ protocol: 'http:', host: '127.0.0.1:7071' })).toBe('ws://127.0.0.1:7071/feed');
    expect(feedUrl({ protocol: 'https:', host: 'example.org' })).toBe('wss://example.org/feed');
  });
});

import { describe, expect, it } from 'vitest';
import { parseJoinOffer, tabLabel, workerUrl } from './join-offer';

describe('parseJoinOffer', () => {
  it('keeps a well-formed offer, with or without a token', () => {
    expect(parseJoinOffer({ allowed: true, workerPath: '/worker', token: 's3cret' })).toEqual({ allowed: true, workerPath: '/worker', token: 's3cret' });
    expect(parseJoinOffer({ allowed: true, workerPath: '/worker' })).toEqual({ allowed: true, workerPath: '/worker' });
  });

  it("passes on the coordinator's reason when browser workers are off", () => {
    expect(parseJoinOffer({ allowed: false, why: 'start it with --browser-workers' })).toEqual({ allowed: false, why: 'start it with --browser-workers' });
  });

  it('turns anything malformed into "not allowed" with a reason', () => {
    expect(parseJoinOffer(null)).toMatchObject({ allowed: false, why: expect.stringMatching(/no join offer/) });
    expect(parseJoinOffer({ allowed: true, workerPath: 'ws://elsewhere/worker' })).toMatchObject({ allowed: false, why: expect.stringMatching(/worker path/) });
    expect(parseJoinOffer({ allowed: true, workerPath: '/worker', token: 7 })).toMatchObject({ allowed: false, why: expect.stringMatching(/token/) });
  });
});

describe('workerUrl', () => {
  it('uses ws on http pages and wss on https pages, on the same host and port', () => {
    expect(workerUrl({ protocol: 'http:', host: '127.0.0.1:7070' }, '/worker')).toBe('ws://127.0.0.1:7070/worker');
    expect(workerUrl({ protocol: 'https:', host: 'coord.example:8443' }, '/worker')).toBe('wss://coord.example:8443/worker');
  });
});

describe('tabLabel', () => {
  it('names the browser and platform', () => {
    expect(tabLabel('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.85 Safari/537.36')).toBe(
      'browser tab (Chromium 131, Linux)',
    );
    expect(tabLabel('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 Edg/130.0')).toBe(
      'browser tab (Edge 130, Windows)',
    );
    expect(tabLabel('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15')).toBe(
      'browser tab (Safari 17, macOS)',
    );
    expect(tabLabel('curl/8.0')).toBe('browser tab (a browser)');
  });
});

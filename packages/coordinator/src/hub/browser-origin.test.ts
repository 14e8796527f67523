import { describe, expect, it } from 'vitest';
import { browserOriginRefusal } from './browser-origin';

describe('browserOriginRefusal', () => {
  it('accepts a connection without Origin (a Node worker) whatever the setting', () => {
    expect(browserOriginRefusal(undefined, '127.0.0.1:7070', false)).toBeNull();
    expect(browserOriginRefusal(undefined, '127.0.0.1:7070', true)).toBeNull();
  });

  it('refuses every page while browser workers are off, naming the flag', () => {
    expect(browserOriginRefusal('http://127.0.0.1:7070', '127.0.0.1:7070', false)).toMatch(/--browser-workers/);
  });

  it("accepts the coordinator's own dashboard page (scheme and host:port of the request)", () => {
    expect(browserOriginRefusal('http://127.0.0.1:7070', '127.0.0.1:7070', true)).toBeNull();
    expect(browserOriginRefusal('https://Coord.example:8443', 'coord.example:8443', true)).toBeNull();
  });

  it('refuses another site, another port, and a malformed Origin', () => {
    expect(browserOriginRefusal('https://evil.example', '127.0.0.1:7070', true)).toMatch(/evil\.example may not join/);
    expect(browserOriginRefusal('http://127.0.0.1:9999', '127.0.0.1:7070', true)).toMatch(/may not join/);
    expect(browserOriginRefusal('null', '127.0.0.1:7070', true)).toMatch(/malformed Origin/);
    expect(browserOriginRefusal('http://127.0.0.1:7070', undefined, true)).toMatch(/may not join/);
  });
});

import { GradsyncError } from '@gradsync/core';

/** ws://HOST:PORT (the scheme may be left out; the path defaults to /worker). */
export function parseCoordinatorUrl(raw: string, source = '--coordinator'): URL {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `ws://${raw}`);
  } catch {
    throw new GradsyncError('E_FLAG', `${source} must be a ws:// URL such as ws://127.0.0.1:7070, got "${raw}"`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new GradsyncError('E_FLAG', `${source} must be a ws:// or wss:// URL, got "${raw}"`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/worker';
  return url;
}

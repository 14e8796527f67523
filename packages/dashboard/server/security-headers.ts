/**
 * Headers on every dashboard response. The page runs only its own bundled script and stylesheet;
 * uPlot and the panels style elements through the CSSOM (element.style), which style-src does not
 * govern, and draw images on canvases; the feed is a WebSocket to the same host ('self' covers
 * ws:/wss: there). data: images: the page's empty favicon.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  // wasm-unsafe-eval: a tab worker compiles TensorFlow.js's wasm backend (WebAssembly only, no eval of JS).
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // A ?token= URL must not leak to another site through the Referer header.
  'Referrer-Policy': 'no-referrer',
};

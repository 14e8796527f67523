import { CLOSE, closeReason, type CoordinatorMessage, encodeMessage, parseCoordinatorMessage } from '@gradsync/protocol';
import type { CoordinatorLink } from '../session/session-ports';

/** A browser may only close with 1000 or 3000-4999 (anything else throws): other codes become 1000, the reason says why. */
export function browserCloseCode(code: number): number {
  return code === CLOSE.normal || (code >= 3000 && code <= 4999) ? code : CLOSE.normal;
}

export interface BrowserLinkOptions {
  url: string;
  connectTimeoutMs: number;
  log: (line: string) => void;
  onMessage: (message: CoordinatorMessage) => void;
}

/**
 * The coordinator link of a browser tab: the DOM WebSocket instead of `ws`. Frames are checked by
 * the same parser as in a Node worker; a malformed one closes the link with the reason. No
 * heartbeat watchdog: the browser answers the coordinator's pings itself and reports a dead TCP
 * link as a close.
 */
export function connectFromBrowser(options: BrowserLinkOptions): Promise<CoordinatorLink> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(options.url);
    socket.binaryType = 'arraybuffer';
    let opened = false;
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`cannot reach the coordinator at ${options.url} within ${options.connectTimeoutMs / 1000} s`));
    }, options.connectTimeoutMs);
    const closed = new Promise<{ code: number; reason: string }>((resolveClosed) => {
      socket.addEventListener('close', (event) => {
        clearTimeout(timer);
        if (!opened) reject(new Error(`the coordinator at ${options.url} refused the link (${event.code}${event.reason ? `: ${event.reason}` : ''})`));
        resolveClosed({ code: event.code, reason: event.reason });
      });
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      if (!(event.data instanceof ArrayBuffer)) {
        socket.close(1003, 'text frames are not part of the protocol');
        return;
      }
      let message: CoordinatorMessage;
      try {
        message = parseCoordinatorMessage(new Uint8Array(event.data));
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        options.log(`closing the coordinator link: ${text.slice(0, 500)}`);
        socket.close(browserCloseCode(CLOSE.protocolError), closeReason(`protocol error: ${text}`));
        return;
      }
      options.onMessage(message);
    });
    socket.addEventListener('open', () => {
      opened = true;
      clearTimeout(timer);
      resolve({
        send: (message) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(encodeMessage(message));
        },
        close: (code = CLOSE.normal, reason = '') => socket.close(browserCloseCode(code), closeReason(reason)),
        closed,
      });
    });
  });
}

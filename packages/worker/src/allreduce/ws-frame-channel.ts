/** A FrameChannel (star-all-reducer.ts) over one WebSocket: each frame is one binary message. */
import type WebSocket from 'ws';
import { CLOSE } from '@gradsync/core/protocol';
import { closeLink } from './peer-socket';
import type { FrameChannel } from './star-all-reducer';

export function wsFrameChannel(ws: WebSocket): FrameChannel {
  ws.binaryType = 'nodebuffer';
  ws.on('error', () => {}); // followed by 'close'
  return {
    send: (frame) => ws.send(frame),
    onFrame: (cb) => ws.on('message', (data: Buffer) => cb(data)),
    onClose: (cb) => ws.once('close', (code: number, reason: Buffer) => cb(`code ${code}${reason.length ? `: ${reason.toString('utf8')}` : ''}`)),
    close: (reason) => void closeLink(ws, CLOSE.protocolError, reason),
  };
}

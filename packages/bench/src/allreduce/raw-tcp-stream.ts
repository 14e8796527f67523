/**
 * The bare TCP stream between two benchmark processes: what the ring's links could carry with no
 * WebSocket framing and no reduction. The sender writes the whole buffer at once; the receiver
 * reads straight into its destination through the socket's `onread` (no allocation, no copy), so
 * this is the most these two processes can move over loopback.
 *
 * Node gives `onread` to sockets it dials, not to ones a server accepts: the receiver dials the
 * sender, which listens.
 */
import net from 'node:net';

export class RawTcpStream {
  private server: net.Server | null = null;
  private outgoing: net.Socket | null = null;
  private incoming: net.Socket | null = null;
  private readonly accepted: Promise<net.Socket>;
  private src = new Uint8Array(0);
  private dst = new Uint8Array(1);
  private received = 0;
  /** Complete rounds received; the sender may start the next round before this side's 'go'. */
  private roundsReceived = 0;
  private roundsWanted = 0;
  private onProgress: (() => void) | null = null;
  private acceptOne: (socket: net.Socket) => void = () => {};

  constructor() {
    this.accepted = new Promise((resolve) => (this.acceptOne = resolve));
  }

  listen(host = '127.0.0.1'): Promise<string> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        socket.setNoDelay(true);
        this.outgoing = socket;
        this.acceptOne(socket);
      });
      this.server = server;
      server.once('error', reject);
      server.listen(0, host, () => resolve(`tcp://${host}:${(server.address() as net.AddressInfo).port}`));
    });
  }

  /** Receiver: dials the sender at `url`. Sender (`url` null): waits for the receiver's dial. */
  async connect(url: string | null | undefined): Promise<void> {
    if (!url) {
      await this.accepted;
      return;
    }
    const { hostname, port } = new URL(url);
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({
        host: hostname,
        port: Number(port),
        noDelay: true,
        onread: {
          buffer: () => this.dst.subarray(this.received),
          callback: (bytes) => {
            this.received += bytes;
            if (this.received === this.dst.byteLength) {
              this.received = 0;
              this.roundsReceived++;
            }
            this.onProgress?.();
            return true;
          },
        },
      });
      socket.once('connect', () => resolve());
      socket.once('error', reject);
      this.incoming = socket;
    });
  }

  prepare(sendBytes: number, expectBytes: number): void {
    this.src = new Uint8Array(sendBytes).fill(1);
    // onread needs a non-empty buffer even on a side that receives nothing.
    this.dst = new Uint8Array(Math.max(1, expectBytes));
    this.received = 0;
    this.roundsReceived = 0;
    this.roundsWanted = 0;
  }

  run(): Promise<void> {
    if (this.incoming) this.roundsWanted++;
    return new Promise((resolve) => {
      let flushed = this.outgoing === null || this.src.byteLength === 0;
      const check = () => {
        if (flushed && this.roundsReceived >= this.roundsWanted) {
          this.onProgress = null;
          resolve();
        }
      };
      this.onProgress = check;
      if (!flushed) {
        this.outgoing!.write(this.src, () => {
          flushed = true;
          check();
        });
      }
      check();
    });
  }

  close(): void {
    this.outgoing?.destroy();
    this.incoming?.destroy();
    this.server?.close();
  }
}

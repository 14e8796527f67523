import cliProgress from 'cli-progress';
import { isQuiet, logLine } from '../terminal/log';

/** One progress bar per epoch on stderr; in a non-interactive terminal, a line every few seconds instead. */
export class EpochProgress {
  private bar: cliProgress.SingleBar | null = null;
  private lastLine = 0;
  private total = 0;
  private label = '';

  start(label: string, total: number): void {
    this.label = label;
    this.total = total;
    this.lastLine = Date.now();
    if (isQuiet()) return;
    if (process.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${label} |{bar}| {value}/{total} steps | {ips} img/s | loss {loss} | acc {acc} | eta {eta_formatted}`,
          barsize: 24,
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { ips: '-', loss: '-', acc: '-' });
    }
  }

  update(done: number, fields: { ips: number; loss: number; acc: number }): void {
    const payload = { ips: fields.ips.toFixed(0), loss: fields.loss.toFixed(4), acc: fields.acc.toFixed(3) };
    if (this.bar) {
      this.bar.update(done, payload);
    } else if (!isQuiet() && (Date.now() - this.lastLine > 10_000 || done === this.total)) {
      this.lastLine = Date.now();
      logLine('info', `${this.label} ${done}/${this.total} steps | ${payload.ips} img/s | loss ${payload.loss} | acc ${payload.acc}`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

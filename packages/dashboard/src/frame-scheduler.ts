/**
 * Batches redraws: any number of `request()` calls between two animation frames cost one
 * `draw`, and `draw` is told whether the (costlier) charts may redraw, at most once per
 * `chartIntervalMs`. When charts were held back, another frame is scheduled for later.
 */
export class FrameScheduler {
  private pending = false;
  private chartsWanted = false;
  private lastCharts = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly draw: (chartsDue: boolean) => void,
    private readonly chartIntervalMs = 250,
    private readonly raf: (cb: () => void) => void = (cb) => requestAnimationFrame(() => cb()),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Asks for a redraw; `charts` when the chart data changed. */
  request(charts = false): void {
    if (charts) this.chartsWanted = true;
    if (this.pending) return;
    this.pending = true;
    this.raf(() => this.frame());
  }

  private frame(): void {
    this.pending = false;
    const t = this.now();
    const chartsDue = this.chartsWanted && t - this.lastCharts >= this.chartIntervalMs;
    if (chartsDue) {
      this.chartsWanted = false;
      this.lastCharts = t;
    }
    this.draw(chartsDue);
    if (this.chartsWanted && this.timer === undefined) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.request();
        },
        Math.max(0, this.chartIntervalMs - (t - this.lastCharts)),
      );
    }
  }
}

/**
 * Progress on stderr: the city build phase and the simulated time of each stack. On a terminal it
 * is one frame redrawn in place and erased (clear()) before anything else is printed, so no stale
 * frame stays above the summary; with --progress on a non-terminal (a CI log, a pipe) it is a few
 * plain lines instead (each stack's start and every 10 % of its simulated time).
 */
export type ProgressMode = 'off' | 'tty' | 'lines';

/** off with --quiet or --no-progress; on a terminal by default (not when CI is set); forced by --progress. */
export function progressMode(opts: { quiet: boolean; progress?: boolean }, stream: { isTTY?: boolean } = process.stderr, env = process.env): ProgressMode {
  if (opts.quiet || opts.progress === false) return 'off';
  const tty = stream.isTTY === true;
  if (opts.progress === true) return tty ? 'tty' : 'lines';
  return tty && !env.CI ? 'tty' : 'off';
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const wallNow = () => performance.now() / 1000; // wall-clock ok: progress display only

export class ProgressView {
  private framed = false;
  private label = '';
  private lastDraw = -Infinity;
  private lastDecile = 0;
  private t0 = wallNow();

  constructor(
    readonly mode: ProgressMode,
    private readonly out: { write(s: string): unknown; columns?: number } = process.stderr,
  ) {}

  private draw(s: string): void {
    const cols = this.out.columns && this.out.columns > 0 ? this.out.columns : 100; // 0 or unknown: assume 100
    const width = Math.max(20, Math.min(cols, 200) - 1);
    this.out.write(`\r\x1b[K${s.length > width ? s.slice(0, width - 1) + '…' : s}`);
    this.framed = true;
  }

  private line(s: string): void {
    this.out.write(`${s}\n`);
  }

  /** A phase without finer progress (the city build). */
  phase(text: string): void {
    if (this.mode === 'tty') this.draw(`evsim: ${text} …`);
    else if (this.mode === 'lines') this.line(`evsim: ${text}`);
  }

  /** Stack `i` of `n` starts. */
  stack(i: number, n: number, name: string): void {
    this.label = n > 1 ? `stack ${name} (${i}/${n})` : `stack ${name}`;
    this.lastDecile = 0;
    this.lastDraw = -Infinity;
    this.t0 = wallNow();
    if (this.mode === 'tty') this.draw(`evsim: ${this.label} starting …`);
    else if (this.mode === 'lines') this.line(`evsim: running ${this.label}`);
  }

  update(sim: number, horizon: number, events: number): void {
    if (this.mode === 'off') return;
    const f = horizon > 0 ? Math.min(1, sim / horizon) : 1;
    if (this.mode === 'lines') {
      const d = Math.floor(f * 10);
      if (d > this.lastDecile) {
        this.lastDecile = d;
        this.line(`evsim: ${this.label}: ${d * 10} % (${fmt(sim / 3600)} of ${fmt(horizon / 3600)} h simulated)`);
      }
      return;
    }
    const now = wallNow();
    if (now - this.lastDraw < 0.1 && f < 1) return;
    this.lastDraw = now;
    const el = Math.max(1e-9, now - this.t0);
    const width = 24;
    const bar = '#'.repeat(Math.round(f * width)).padEnd(width, '.');
    this.draw(`evsim: ${this.label} [${bar}] ${fmt(100 * f, 0).padStart(3)} %  ${fmt(sim / 3600)} of ${fmt(horizon / 3600)} h  ${fmt(events / el / 1e6, 2)} M events/s`);
  }

  /** Erase the frame (terminal mode) before anything else is printed. */
  clear(): void {
    if (this.framed) this.out.write('\r\x1b[K');
    this.framed = false;
  }
}

/**
 * The progress bar of long commands (`synack replay` on a big file): on a terminal only, drawn on
 * stderr at most ten times a second, erased at the end. Nothing at all when stderr is not a terminal or
 * `CI` is set (logs stay clean), or when per-frame lines stream to the same terminal (they would tear it).
 */

export interface ProgressEnv {
  stderrIsTTY: boolean;
  stdoutIsTTY: boolean;
  /** The command prints a line per frame or per record to stdout as it goes. */
  streaming: boolean;
  ci: boolean;
}

export function wantProgress(e: ProgressEnv): boolean {
  return e.stderrIsTTY && !e.ci && !(e.streaming && e.stdoutIsTTY);
}

/** Files smaller than this finish before a bar is worth drawing. */
export const PROGRESS_MIN_BYTES = 64 << 20;

/** `[##########----------]  50%  512 MB / 1.0 GB  5.5 M frames  390 k frames/s  ETA 1.3 s` (width 20 bar). */
export function formatProgress(done: number, total: number, frames: number, elapsedMs: number): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const cells = Math.round(f * 20);
  const rate = elapsedMs > 0 ? (frames * 1000) / elapsedMs : 0;
  const left = f > 0 ? (elapsedMs * (1 - f)) / f / 1000 : NaN;
  const eta = Number.isFinite(left) ? `  ETA ${left < 10 ? left.toFixed(1) : Math.round(left)} s` : '';
  return `[${'#'.repeat(cells)}${'-'.repeat(20 - cells)}] ${String(Math.floor(f * 100)).padStart(3)}%  ${size(done)} / ${size(total)}  ${count(frames)} frames  ${count(rate)} frames/s${eta}`;
}

function size(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${Math.round(n / 1e6)} MB`;
  return `${Math.round(n / 1e3)} kB`;
}

function count(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} k`;
  return String(Math.round(n));
}

/** Draws the bar on a terminal stream, throttled; `end()` erases it. */
export class ProgressBar {
  private last = 0;
  private drawn = false;
  private readonly start = Date.now();
  constructor(
    private readonly total: number,
    private readonly write: (s: string) => void,
  ) {}

  update(done: number, frames: number): void {
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    this.drawn = true;
    this.write(`\r${formatProgress(done, this.total, frames, now - this.start)}\x1b[K`);
  }

  end(): void {
    if (this.drawn) this.write('\r\x1b[K');
    this.drawn = false;
  }
}

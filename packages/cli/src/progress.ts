/**
 * A one-line progress bar on a terminal (`step 120/400 [=====>    ] loss 4.21 · 1.2k tok/s · ETA 1m05s`),
 * plain lines every few seconds otherwise (CI logs, pipes).
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  total?: number;
  stream?: ProgressStream;
  /** Minimum milliseconds between plain-text lines when not on a terminal. */
  plainIntervalMs?: number;
  now?: () => number;
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly startedAt: number;
  private lastPlainAt = -Infinity;
  private drawn = false;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.startedAt = this.now();
  }

  /** `info` is a short status such as `loss 3.21`. */
  update(done: number, info = ''): void {
    const total = this.options.total;
    const elapsed = this.now() - this.startedAt;
    const eta = total && done > 0 ? formatDuration(((total - done) * elapsed) / done) : '?';
    const counter = total ? `${done}/${total}` : `${done}`;
    const suffix = [info, total ? `ETA ${eta}` : formatDuration(elapsed)].filter(Boolean).join(' · ');
    if (this.stream.isTTY) {
      const bar = total ? ` ${renderBar(done / total, 24)}` : '';
      const line = `${this.options.label} ${counter}${bar} ${suffix}`;
      this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1).padEnd(Math.min(this.stream.columns ?? 120, 120) - 1)}`);
      this.drawn = true;
    } else if (this.now() - this.lastPlainAt >= (this.options.plainIntervalMs ?? 5000) || (total !== undefined && done >= total)) {
      this.lastPlainAt = this.now();
      this.stream.write(`${this.options.label} ${counter} ${suffix}\n`);
    }
  }

  /** Ends the bar's line so following output starts on a fresh line. */
  done(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

export function renderBar(fraction: number, width: number): string {
  const clamped = Math.max(0, Math.min(1, fraction));
  const filled = Math.round(clamped * width);
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (filled === width ? '=' : '>') : ''}${' '.repeat(width - filled)}]`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

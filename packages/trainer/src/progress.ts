/** Training progress on stderr: a one-line bar on a terminal, plain log lines otherwise. */
export interface ProgressLine {
  step: number;
  totalSteps?: number;
  epoch: number;
  loss: number;
  learningRate: number;
  tokensPerSecond: number;
  elapsedMs: number;
  /** Wall-clock budget of the run (trainer.maxWallClockSeconds), which caps the ETA. */
  budgetMs?: number;
}

export interface ProgressReporter {
  update(line: ProgressLine): void;
  /** A message that must not be overwritten by the bar (evaluation results, checkpoints). */
  message(text: string): void;
  done(): void;
}

export type ProgressMode = 'auto' | 'bar' | 'plain' | 'none';

export function createProgress(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr, logEvery = 10): ProgressReporter {
  const resolved = mode === 'auto' ? (stream.isTTY ? 'bar' : 'plain') : mode;
  if (resolved === 'none') return { update: () => undefined, message: () => undefined, done: () => undefined };
  if (resolved === 'plain') {
    return {
      update: (line) => {
        if (line.step % logEvery === 0 || line.step === line.totalSteps) stream.write(`${plainLine(line)}\n`);
      },
      message: (text) => stream.write(`${text}\n`),
      done: () => undefined,
    };
  }
  let drawn = false;
  return {
    update: (line) => {
      stream.write(`\r${barLine(line, stream.columns ?? 100)}\x1b[K`);
      drawn = true;
    },
    message: (text) => {
      stream.write(`${drawn ? '\r\x1b[K' : ''}${text}\n`);
      drawn = false;
    },
    done: () => {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

export function plainLine(line: ProgressLine): string {
  const of = line.totalSteps ? `/${line.totalSteps}` : '';
  return `step ${line.step}${of} epoch ${line.epoch} loss ${formatLoss(line.loss)} lr ${line.learningRate.toExponential(3)} ${Math.round(line.tokensPerSecond)} tok/s elapsed ${formatDuration(line.elapsedMs)}${etaText(line)}`;
}

export function barLine(line: ProgressLine, columns: number): string {
  const stats = ` ${line.step}${line.totalSteps ? `/${line.totalSteps}` : ''} loss ${formatLoss(line.loss)} ${Math.round(line.tokensPerSecond)} tok/s${etaText(line)}`;
  if (!line.totalSteps) return stats.trim();
  const width = Math.max(10, Math.min(40, columns - stats.length - 3));
  const filled = Math.round((width * Math.min(line.step, line.totalSteps)) / line.totalSteps);
  return `[${'='.repeat(filled)}${' '.repeat(width - filled)}]${stats}`;
}

function etaText(line: ProgressLine): string {
  const byBudget = line.budgetMs !== undefined ? Math.max(0, line.budgetMs - line.elapsedMs) : Number.POSITIVE_INFINITY;
  const bySteps = line.totalSteps && line.step > 0 ? ((line.totalSteps - line.step) * line.elapsedMs) / line.step : Number.POSITIVE_INFINITY;
  const remaining = Math.min(byBudget, bySteps);
  return Number.isFinite(remaining) ? ` ETA ${formatDuration(remaining)}` : '';
}

function formatLoss(loss: number): string {
  return Number.isFinite(loss) ? loss.toFixed(4) : String(loss);
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

import type { CommandContext } from '../command';
import { stopSignal } from '../interrupt';
import type { RunEnvironment } from '../pipeline/train';

export function environment(context: CommandContext): RunEnvironment {
  return { stop: stopSignal, progress: context.io.stderr as NodeJS.WriteStream, log: context.log };
}

export function print(context: CommandContext, text: string): void {
  context.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A plain-text table for terminals. */
export function formatTable(columns: string[], rows: (string | number | null)[][]): string {
  const cells = rows.map((row) => row.map((c) => (c === null ? '—' : typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(4)) : c)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (values: string[]) => values.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

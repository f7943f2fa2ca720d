import * as fs from 'fs';
import * as path from 'path';
import { describeWriteError, makeDirectory, writeFileAtomic } from '@pretrain/core';

/** Appends one JSON object per line to `<outputDir>/metrics.jsonl`. */
export class MetricsLog {
  readonly file: string;

  constructor(outputDir: string) {
    makeDirectory(outputDir);
    this.file = path.join(outputDir, 'metrics.jsonl');
  }

  append(record: Record<string, unknown>): void {
    try {
      fs.appendFileSync(this.file, `${JSON.stringify(record)}\n`);
    } catch (error) {
      throw describeWriteError(error, this.file);
    }
  }

  /** On resume: drop records logged after the checkpoint's step, so the log reads as one run. */
  truncateAfter(step: number): void {
    if (!fs.existsSync(this.file)) return;
    const kept = fs
      .readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        try {
          const record = JSON.parse(line) as { step?: number };
          return typeof record.step !== 'number' || record.step <= step;
        } catch {
          return false;
        }
      });
    writeFileAtomic(this.file, kept.length ? `${kept.join('\n')}\n` : '');
  }
}

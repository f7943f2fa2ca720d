import * as fs from 'fs';
import * as path from 'path';
import { describeWriteError, makeDirectory, writeFileAtomic, writeJsonAtomic } from '@pretrain/core';

/**
 * A run folder: `config.json` (the resolved experiment), `metrics.jsonl` (one JSON object per logged
 * step/evaluation), checkpoints (HF layout) in sub-folders, and `report.html`.
 */
export class RunDir {
  readonly metricsFile: string;

  constructor(readonly dir: string) {
    makeDirectory(dir);
    this.metricsFile = path.join(dir, 'metrics.jsonl');
  }

  /** `runs/<name>-<yyyymmdd-hhmmss>` under `cwd` unless an explicit folder is given. */
  static create(options: { out?: string; configOutputDir?: string; name?: string; cwd: string; baseDir?: string }): RunDir {
    if (options.out) return new RunDir(path.resolve(options.cwd, options.out));
    if (options.configOutputDir) return new RunDir(path.resolve(options.baseDir ?? options.cwd, options.configOutputDir));
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    return new RunDir(path.resolve(options.cwd, 'runs', `${options.name ?? 'run'}-${stamp}`));
  }

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  writeJson(name: string, value: unknown): string {
    const file = this.path(name);
    writeJsonAtomic(file, value);
    return file;
  }

  writeText(name: string, text: string): string {
    const file = this.path(name);
    writeFileAtomic(file, text);
    return file;
  }

  /** Appends one record; a line is small enough that appends stay whole. */
  logMetrics(record: Record<string, unknown>): void {
    try {
      fs.appendFileSync(this.metricsFile, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
    } catch (error) {
      throw describeWriteError(error, this.metricsFile);
    }
  }
}

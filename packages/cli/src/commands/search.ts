import * as path from 'path';
import { PretrainError } from '@pretrain/core';
import { CONFIG_OPTIONS, Command, CommandContext, numberOption, stringOption } from '../command';
import { parseOverride } from '../config-file';
import { Rng } from '@pretrain/core';
import { writeReport } from '../report';
import { finetuneCommand } from './train-commands';
import { formatTable, print } from './shared';

/** `trainer.learningRate=1e-4,3e-4` → key and candidate values. */
export function parseGrid(specs: string[]): { key: string; values: unknown[] }[] {
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new PretrainError(`--grid ${spec}: expected key=value1,value2,...`);
    const key = spec.slice(0, eq);
    const values = spec
      .slice(eq + 1)
      .split(',')
      .map((v) => parseOverride(`${key}=${v.trim()}`).value);
    if (values.length === 0) throw new PretrainError(`--grid ${spec}: no values`);
    return { key, values };
  });
}

/** Every combination of the grid (grid search), or `trials` distinct random picks from it (random search). */
export function trialAssignments(grid: { key: string; values: unknown[] }[], trials: number | undefined, seed: number): Record<string, unknown>[] {
  let all: Record<string, unknown>[] = [{}];
  for (const { key, values } of grid) all = all.flatMap((partial) => values.map((value) => ({ ...partial, [key]: value })));
  if (!trials || trials >= all.length) return all;
  const rng = new Rng(seed);
  const picked = all.slice();
  for (let i = picked.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [picked[i], picked[j]] = [picked[j], picked[i]];
  }
  return picked.slice(0, trials);
}

export const searchCommand: Command = {
  path: ['search'],
  summary: 'hyperparameter search: fine-tune once per trial, judge on validation, report the best',
  details: `
Each trial is a fine-tuning run (same config, one combination of --grid values) in <run>/trial-N.
The table of trials is printed and written to search-results.json and report.html.
Example: pretrain search -c docs/guides/finetune/sst2.yaml --from runs/bert/checkpoint \\
           --grid trainer.learningRate=1e-4,3e-4 --grid trainer.batchSize=16,32 --trials 3`,
  options: {
    ...CONFIG_OPTIONS,
    from: { type: 'string', valueName: 'DIR', description: 'initialise every trial from this checkpoint' },
    tokenizer: { type: 'string', short: 't', valueName: 'FILE', description: 'tokenizer.json when not using --from' },
    grid: { type: 'string', multiple: true, valueName: 'KEY=V1,V2', description: 'values to try for one config key (repeatable)' },
    trials: { type: 'string', valueName: 'N', description: 'random search: try N combinations (default: all)' },
  },
  async run(context) {
    const grid = parseGrid((context.options.grid as string[] | undefined) ?? []);
    if (grid.length === 0) throw new PretrainError('search: give at least one --grid key=v1,v2');
    const out = path.resolve(context.io.cwd, stringOption(context.options, 'out') ?? path.join('runs', `search-${Date.now()}`));
    const assignments = trialAssignments(grid, numberOption(context.options, 'trials'), 42);
    const results: { trial: number; assignment: Record<string, unknown>; accuracy: number }[] = [];
    for (const [i, assignment] of assignments.entries()) {
      context.log(`trial ${i + 1}/${assignments.length}: ${JSON.stringify(assignment)}`);
      const captured: string[] = [];
      const trialContext: CommandContext = {
        ...context,
        options: {
          ...context.options,
          out: path.join(out, `trial-${i + 1}`),
          set: [...((context.options.set as string[] | undefined) ?? []), ...Object.entries(assignment).map(([k, v]) => `${k}=${JSON.stringify(v)}`)],
        },
        io: { ...context.io, stdout: { write: (text: string) => captured.push(text) } as never },
      };
      await finetuneCommand.run(trialContext);
      const match = /validation accuracy ([0-9.]+|NaN)/.exec(captured.join(''));
      results.push({ trial: i + 1, assignment, accuracy: match ? Number(match[1]) : NaN });
    }
    const best = results.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    const columns = ['trial', ...grid.map((g) => g.key), 'validation accuracy'];
    const rows = results.map((r) => [String(r.trial) + (r === best ? ' *' : ''), ...grid.map((g) => JSON.stringify(r.assignment[g.key])), r.accuracy]);
    print(context, formatTable(columns, rows));
    print(context, `best: trial ${best.trial} (${JSON.stringify(best.assignment)}), checkpoint ${path.join(out, `trial-${best.trial}`, 'checkpoint')}`);
    const fs = await import('fs');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'search-results.json'), JSON.stringify({ grid, results, best }, null, 2));
    writeReport(
      out,
      {
        title: 'Hyperparameter search',
        createdAt: new Date().toISOString(),
        notes: [`best: trial ${best.trial} ${JSON.stringify(best.assignment)}`],
        charts: [{ id: 'trials', title: 'Validation accuracy per trial', xLabel: 'trial', yLabel: 'accuracy', series: [{ label: 'validation accuracy', points: results.map((r) => ({ x: r.trial, y: r.accuracy })) }] }],
        tables: [{ title: 'Trials', columns, rows }],
      },
      (file, text) => fs.writeFileSync(file, text),
    );
  },
};

import * as path from 'path';
import { PretrainError, Rng, type TaskKind } from '@pretrain/core';
import { CONFIG_OPTIONS, Command, CommandContext, UsageError, numberOption, stringOption } from '../command';
import { applyOverrides, parseOverride, readConfigFile } from '../config-file';
import { didYouMean } from '../pipeline/suggest';
import { TASK_METRICS, metricGreaterIsBetter } from '../pipeline/task-run';
import { writeReport } from '../report';
import { finetuneCommand, taskOfHeadName } from './train-commands';
import { formatTable, print } from './shared';

/**
 * What search optimises when neither --metric nor trainer.metricForBest names a metric: each task's
 * headline metric (GLUE accuracy, STS-B Pearson, CoNLL entity F1, SQuAD F1). A tag set that is not IOB
 * (part of speech, chunks) reports no entity scores: token accuracy then.
 */
export const MAIN_METRIC: Record<TaskKind, string> = {
  'sequence-classification': 'accuracy',
  'sequence-regression': 'pearson',
  'token-classification': 'entity_f1',
  'question-answering': 'f1',
};

/** The metric to optimise: --metric, else the config's trainer.metricForBest, else the task's main metric. */
export function searchMetric(task: TaskKind | undefined, flag: string | undefined, configured: unknown): { metric: string; source: string } {
  if (flag !== undefined) {
    if (task) {
      const known = ['loss', ...TASK_METRICS[task]];
      if (!known.includes(flag)) {
        const near = didYouMean(flag, known);
        throw new UsageError(`--metric: "${flag}" is not reported for ${task} (${known.join(', ')})${near ? `; did you mean "${near}"?` : ''}`);
      }
    }
    return { metric: flag, source: '--metric' };
  }
  if (typeof configured === 'string') return { metric: configured, source: 'trainer.metricForBest' };
  if (!task) return { metric: 'loss', source: 'default: the head reports no known task' };
  return { metric: MAIN_METRIC[task], source: `default for ${task}` };
}

/** The task and trainer section of the config as the trials will read it (--set applied). */
function peekConfig(context: CommandContext): { task?: TaskKind; metricForBest?: unknown; greaterIsBetter?: boolean } {
  const file = stringOption(context.options, 'config');
  const raw = applyOverrides(file ? readConfigFile(path.resolve(context.io.cwd, file)) : {}, (context.options.set as string[] | undefined) ?? []);
  const trainer = (raw.trainer ?? {}) as { metricForBest?: unknown; greaterIsBetter?: unknown };
  const headName = (raw.head as { name?: unknown } | undefined)?.name;
  let task: TaskKind | undefined;
  try {
    task = typeof headName === 'string' ? taskOfHeadName(headName) : undefined;
  } catch {
    task = undefined; // a third-party head: its task is known once it runs
  }
  return { task, metricForBest: trainer.metricForBest, greaterIsBetter: typeof trainer.greaterIsBetter === 'boolean' ? trainer.greaterIsBetter : undefined };
}

/** The `validation metrics: {...}` line a fine-tuning run prints. */
function reportedMetrics(stdout: string): Record<string, number> {
  const line = stdout.split('\n').find((l) => l.startsWith('validation metrics: '));
  if (!line) return {};
  const parsed = JSON.parse(line.slice('validation metrics: '.length)) as Record<string, number | null>;
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v ?? NaN]));
}

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
The metric optimised is --metric, else the config's trainer.metricForBest, else the task's main one
(classification: accuracy; regression: pearson; tagging: entity_f1, token_accuracy for tag sets that are
not IOB; question answering: f1). loss and mse are minimised, the others maximised.
Example: pretrain search -c docs/guides/finetune/sst2.yaml --from runs/bert/checkpoint \\
           --grid trainer.learningRate=1e-4,3e-4 --grid trainer.batchSize=16,32 --trials 3`,
  options: {
    ...CONFIG_OPTIONS,
    from: { type: 'string', valueName: 'DIR', description: 'initialise every trial from this checkpoint' },
    tokenizer: { type: 'string', short: 't', valueName: 'FILE', description: 'tokenizer.json, vocab.txt or a folder holding one, when not using --from' },
    grid: { type: 'string', multiple: true, valueName: 'KEY=V1,V2', description: 'values to try for one config key (repeatable)' },
    trials: { type: 'string', valueName: 'N', description: 'random search: try N combinations (default: all)' },
    metric: { type: 'string', valueName: 'NAME', description: 'validation metric to optimise (default: trainer.metricForBest, else the task\'s main metric)' },
  },
  async run(context) {
    const grid = parseGrid((context.options.grid as string[] | undefined) ?? []);
    if (grid.length === 0) throw new PretrainError('search: give at least one --grid key=v1,v2');
    const out = path.resolve(context.io.cwd, stringOption(context.options, 'out') ?? path.join('runs', `search-${Date.now()}`));
    const assignments = trialAssignments(grid, numberOption(context.options, 'trials'), 42);
    const peek = peekConfig(context);
    const flag = stringOption(context.options, 'metric');
    let { metric, source } = searchMetric(peek.task, flag, peek.metricForBest);
    context.log(`search: ${assignments.length} trials, optimising validation ${metric} (${source})`);
    const results: { trial: number; assignment: Record<string, unknown>; value: number; metrics: Record<string, number> }[] = [];
    for (const [i, assignment] of assignments.entries()) {
      context.log(`trial ${i + 1}/${assignments.length}: ${JSON.stringify(assignment)}`);
      const captured: string[] = [];
      const trialContext: CommandContext = {
        ...context,
        options: {
          ...context.options,
          out: path.join(out, `trial-${i + 1}`),
          // --metric also picks each trial's best/ checkpoint.
          set: [...((context.options.set as string[] | undefined) ?? []), ...(flag !== undefined ? [`trainer.metricForBest=${flag}`, `trainer.greaterIsBetter=${metricGreaterIsBetter(flag)}`] : []), ...Object.entries(assignment).map(([k, v]) => `${k}=${JSON.stringify(v)}`)],
        },
        io: { ...context.io, stdout: { write: (text: string) => captured.push(text) } as never },
      };
      await finetuneCommand.run(trialContext);
      const metrics = reportedMetrics(captured.join(''));
      if (i === 0 && !(metric in metrics) && source.startsWith('default') && peek.task === 'token-classification' && 'token_accuracy' in metrics) {
        metric = 'token_accuracy';
        source = 'default for token-classification: the tag set is not IOB, so no entity scores';
        context.log(`search: optimising validation ${metric} (${source})`);
      }
      if (!(metric in metrics)) throw new PretrainError(`search: trial ${i + 1} reported no validation ${metric} (it reported: ${Object.keys(metrics).join(', ') || 'nothing; give the config validation data'})`, { path: flag !== undefined ? '--metric' : 'trainer.metricForBest' });
      results.push({ trial: i + 1, assignment, value: metrics[metric], metrics });
      print(context, `trial ${i + 1}: validation ${metric} ${metrics[metric].toFixed(4)}`);
    }
    const greater = metricGreaterIsBetter(metric, flag === undefined ? peek.greaterIsBetter : undefined);
    const ranked = results.filter((r) => Number.isFinite(r.value));
    if (ranked.length === 0) throw new PretrainError(`search: no trial has a finite validation ${metric} (${results.map((r) => r.value).join(', ')})`);
    const best = ranked.reduce((a, b) => ((greater ? b.value > a.value : b.value < a.value) ? b : a));
    const columns = ['trial', ...grid.map((g) => g.key), `validation ${metric}`];
    const rows = results.map((r) => [String(r.trial) + (r === best ? ' *' : ''), ...grid.map((g) => JSON.stringify(r.assignment[g.key])), r.value]);
    print(context, formatTable(columns, rows));
    print(context, `best: trial ${best.trial} (${JSON.stringify(best.assignment)}), validation ${metric} ${best.value.toFixed(4)} (${greater ? 'highest' : 'lowest'}), checkpoint ${path.join(out, `trial-${best.trial}`, 'checkpoint')}`);
    const fs = await import('fs');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'search-results.json'), JSON.stringify({ metric, greaterIsBetter: greater, grid, results, best }, null, 2));
    writeReport(
      out,
      {
        title: 'Hyperparameter search',
        createdAt: new Date().toISOString(),
        notes: [`best: trial ${best.trial} ${JSON.stringify(best.assignment)}, validation ${metric} ${best.value} (${source})`],
        charts: [{ id: 'trials', title: `Validation ${metric} per trial`, xLabel: 'trial', yLabel: metric, series: [{ label: `validation ${metric}`, points: results.map((r) => ({ x: r.trial, y: r.value })) }] }],
        tables: [{ title: 'Trials', columns, rows }],
      },
      (file, text) => fs.writeFileSync(file, text),
    );
  },
};

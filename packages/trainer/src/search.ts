import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, Rng, writeFileAtomic, writeJsonAtomic, z, type BackbonePlugin, type Example, type TaskHeadPlugin, type TokenizerPlugin, type TrainerCallbackPlugin } from '@pretrain/core';
import { greaterIsBetter, strategySchema, type TrainerOptionsInput } from './options';
import { Trainer, type ComputeMetrics } from './trainer';

const numberDimension = z.union([
  z.array(z.number()).min(1),
  /** Random search only: sampled uniformly (or log-uniformly) from [min, max]. */
  z.object({ min: z.number(), max: z.number(), scale: z.enum(['linear', 'log']).default('linear') }).strict(),
]);
const intDimension = z.array(z.number().int().positive()).min(1);

/** The hyperparameters a search may vary; each is a list of values (grid/random) or a range (random). */
export const searchSpaceSchema = z
  .object({
    learningRate: numberDimension.optional(),
    batchSize: intDimension.optional(),
    epochs: intDimension.optional(),
    weightDecay: numberDimension.optional(),
    warmupRatio: numberDimension.optional(),
    warmupSteps: z.array(z.number().int().nonnegative()).min(1).optional(),
    strategy: z.array(strategySchema).min(1).optional(),
    layerwiseLrDecay: numberDimension.optional(),
  })
  .strict();
export type SearchSpace = z.input<typeof searchSpaceSchema>;

export const searchOptionsSchema = z
  .object({
    method: z.enum(['grid', 'random']).default('grid'),
    /** Random search: number of trials (grid search runs every combination). */
    trials: z.number().int().positive().default(8),
    space: searchSpaceSchema,
    /** Validation metric that ranks trials (the best evaluation during each trial counts). */
    metric: z.string().default('loss'),
    greaterIsBetter: z.boolean().optional(),
    seed: z.number().int().nonnegative().default(42),
  })
  .strict();
export type SearchOptions = z.input<typeof searchOptionsSchema>;

export type TrialParams = Record<string, unknown>;

export interface TrialResult {
  trial: number;
  params: TrialParams;
  /** Best validation value of the metric during the trial (NaN when the trial failed). */
  score: number;
  bestStep: number | null;
  validation?: Record<string, number>;
  error?: string;
  dir: string;
}

export interface SearchModel {
  backbone: BackbonePlugin;
  head: TaskHeadPlugin;
  tokenizer?: TokenizerPlugin;
  /** Called after the trial; dispose what createModel made. */
  dispose?: () => void;
}

export interface HyperparameterSearchSetup {
  search: SearchOptions;
  /** Trainer options every trial shares (outputDir and metricForBest are set per trial). */
  baseOptions?: TrainerOptionsInput;
  outputDir: string;
  /** A fresh model for each trial, e.g. the pre-trained checkpoint loaded again with a new head. */
  createModel: () => SearchModel | Promise<SearchModel>;
  train: Example[];
  validation: Example[];
  /** Evaluated once, with the best trial's best model. */
  test?: Example[];
  computeMetrics?: ComputeMetrics;
  callbacks?: TrainerCallbackPlugin[];
  log?: (line: string) => void;
}

export interface SearchResult {
  trials: TrialResult[];
  best: TrialResult;
  /** Test metrics of the best configuration (its best checkpoint), when test data was given. */
  test?: Record<string, number>;
  /** results.md (a table) and results.jsonl in outputDir. */
  tablePath: string;
}

/** Every combination (grid) or `trials` random draws (random) from the space. */
export function searchTrials(options: SearchOptions): TrialParams[] {
  const o = searchOptionsSchema.parse(options);
  const dims = Object.entries(o.space).filter(([, v]) => v !== undefined) as [string, unknown][];
  if (dims.length === 0) throw new PretrainError('search.space: give at least one hyperparameter to vary');
  if (o.method === 'grid') {
    let combos: TrialParams[] = [{}];
    for (const [name, values] of dims) {
      if (!Array.isArray(values)) throw new PretrainError(`search.space.${name}: grid search needs a list of values, not a range`, { path: `search.space.${name}` });
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
    }
    return combos;
  }
  const rng = new Rng(o.seed);
  return Array.from({ length: o.trials }, () => Object.fromEntries(dims.map(([name, values]) => [name, sample(values, rng, name)])));
}

function sample(values: unknown, rng: Rng, name: string): unknown {
  if (Array.isArray(values)) return values[rng.int(values.length)];
  const { min, max, scale } = values as { min: number; max: number; scale: 'linear' | 'log' };
  if (!(max >= min)) throw new PretrainError(`search.space.${name}: max must be ≥ min`, { path: `search.space.${name}` });
  if (scale === 'log') {
    if (!(min > 0)) throw new PretrainError(`search.space.${name}: a log range needs min > 0`, { path: `search.space.${name}` });
    return Math.exp(Math.log(min) + rng.float() * (Math.log(max) - Math.log(min)));
  }
  return min + rng.float() * (max - min);
}

/**
 * Trains one model per trial on `train`, judges each on `validation` (best evaluation of
 * `search.metric`), writes results.md / results.jsonl, then evaluates the best trial's best model
 * once on `test`.
 */
export async function hyperparameterSearch(setup: HyperparameterSearchSetup): Promise<SearchResult> {
  const search = searchOptionsSchema.parse(setup.search);
  const log = setup.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const greater = greaterIsBetter({ metricForBest: search.metric, greaterIsBetter: search.greaterIsBetter });
  fs.mkdirSync(setup.outputDir, { recursive: true });
  const trials: TrialResult[] = [];
  const params = searchTrials(search);
  for (const [index, trialParams] of params.entries()) {
    const dir = path.join(setup.outputDir, `trial-${index}`);
    log(`trial ${index + 1}/${params.length}: ${describe(trialParams)}`);
    const model = await setup.createModel();
    let trainer: Trainer | undefined;
    try {
      trainer = new Trainer({
        backbone: model.backbone,
        head: model.head,
        tokenizer: model.tokenizer,
        callbacks: setup.callbacks,
        computeMetrics: setup.computeMetrics,
        options: { ...setup.baseOptions, ...trialParams, outputDir: dir, metricForBest: search.metric, greaterIsBetter: greater, resume: false } as TrainerOptionsInput,
      });
      const result = await trainer.train({ train: setup.train, validation: setup.validation });
      trials.push({ trial: index, params: trialParams, score: result.best?.value ?? Number.NaN, bestStep: result.best?.step ?? null, validation: result.lastEval, dir });
    } catch (error) {
      trials.push({ trial: index, params: trialParams, score: Number.NaN, bestStep: null, error: (error as Error).message, dir });
      log(`trial ${index + 1} failed: ${(error as Error).message}`);
    } finally {
      trainer?.dispose();
      model.dispose?.();
    }
    writeResults(setup.outputDir, trials, search.metric);
  }
  const ranked = trials.filter((t) => Number.isFinite(t.score)).sort((a, b) => (greater ? b.score - a.score : a.score - b.score));
  if (ranked.length === 0) throw new PretrainError(`hyperparameter search: all ${trials.length} trials failed (see ${path.join(setup.outputDir, 'results.md')})`);
  const best = ranked[0];
  log(`best trial ${best.trial}: ${search.metric} ${best.score} with ${describe(best.params)}`);
  let test: Record<string, number> | undefined;
  if (setup.test) {
    test = await evaluateBestOnTest(setup, best);
    writeJsonAtomic(path.join(setup.outputDir, 'test-results.json'), { trial: best.trial, params: best.params, metrics: test });
    log(`test (once, trial ${best.trial}): ${Object.entries(test).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ')}`);
  }
  const tablePath = writeResults(setup.outputDir, trials, search.metric, best.trial, test);
  return { trials, best, test, tablePath };
}

async function evaluateBestOnTest(setup: HyperparameterSearchSetup, best: TrialResult): Promise<Record<string, number>> {
  const model = await setup.createModel();
  const trainer = new Trainer({ backbone: model.backbone, head: model.head, tokenizer: model.tokenizer, computeMetrics: setup.computeMetrics, options: { ...setup.baseOptions, ...best.params, progress: 'none' } as TrainerOptionsInput });
  try {
    const report = trainer.loadModel(path.join(best.dir, 'best'));
    if (report.missing.length) throw new PretrainError(`${best.dir}/best: the best model lacks ${report.missing.join(', ')}`);
    return await trainer.evaluate(setup.test!);
  } finally {
    trainer.dispose();
    model.dispose?.();
  }
}

function describe(params: TrialParams): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

function writeResults(dir: string, trials: TrialResult[], metric: string, bestTrial?: number, test?: Record<string, number>): string {
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  const cell = (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v)).replace(/\|/g, '\\|');
  const lines = [`| trial | ${names.join(' | ')} | validation ${metric} | best step | note |`, `|${' --- |'.repeat(names.length + 4)}`];
  for (const t of trials) {
    const note = t.error ? `failed: ${t.error.split('\n')[0]}` : t.trial === bestTrial ? 'best' : '';
    lines.push(`| ${t.trial} | ${names.map((n) => cell(t.params[n])).join(' | ')} | ${Number.isFinite(t.score) ? t.score.toFixed(4) : '—'} | ${t.bestStep ?? '—'} | ${cell(note)} |`);
  }
  if (test) lines.push('', `Test (evaluated once, trial ${bestTrial}): ${Object.entries(test).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
  const tablePath = path.join(dir, 'results.md');
  writeFileAtomic(tablePath, `${lines.join('\n')}\n`);
  writeFileAtomic(path.join(dir, 'results.jsonl'), trials.map((t) => JSON.stringify(t)).join('\n') + '\n');
  return tablePath;
}

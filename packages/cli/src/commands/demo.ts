import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackbonePlugin, CorpusSourcePlugin, PluginKind, PluginKinds, PretrainError, TokenizerPlugin, defaultRegistry, initBackend } from '@pretrain/core';
import { readConll } from '@pretrain/corpus';
import type { TrainerOptionsInput } from '@pretrain/trainer';
import { registerBuiltins } from '../builtins';
import { Command, CommandContext, numberOption, stringOption } from '../command';
import { stopSignal, InterruptedError } from '../interrupt';
import { ReportChart, lossSeriesFromMetrics, readMetrics, writeReport } from '../report';
import { RunDir } from '../run-dir';
import { formatDuration } from '../progress';
import { LabeledSplits, LabeledText, readLabeledFile, shuffled } from '../pipeline/labeled';
import { Rng } from '@pretrain/core';
import { trainTokenizer } from '../pipeline/tokenizers';
import { RunEnvironment, runFinetuning, runPretraining, wasInterrupted } from '../pipeline/train';
import { PairedDifference, PairedOutcomes, pairedDifference } from '../pipeline/paired';
import { TaggedSentence, runTagging } from '../pipeline/tagging';
import { sampleTokens } from '../pipeline/generate';
import { formatTable, print } from './shared';
import { DemoPreset, DemoTask, PRESETS } from './demo-presets';

/**
 * Both cores unless PRETRAIN_THREADS says otherwise: on an otherwise idle 2-core machine two wasm
 * threads ran the demo's training steps faster than one (docs/guides/pretrain-bert.md).
 */
function demoThreads(): number | undefined {
  return process.env.PRETRAIN_THREADS ? undefined : Math.min(2, os.availableParallelism());
}

/** The committed demo data: <repo>/data, found from the installed package location. */
export function defaultDataDir(): string {
  return path.resolve(__dirname, '../../../../data');
}

/** A registered plugin by kind and name, its options validated; data paths resolve against `baseDir`. */
export async function createPlugin<K extends PluginKind>(kind: K, name: string, options: unknown, baseDir: string, seed: number): Promise<PluginKinds[K]> {
  const definition = await defaultRegistry.resolve(kind, name);
  return definition.create(definition.options.parse(options ?? {}), { baseDir, seed });
}

export const demoCommand: Command = {
  path: ['demo'],
  summary: 'the one-command demo: tokenizer → BERT pre-training → fine-tuning vs from scratch (or --preset gpt)',
  details: `
Presets: quick (default, ≤ 10 minutes on 2 cores), full (5,000 pre-training steps, about 25 minutes),
gpt (pre-train a small GPT on tiny-shakespeare with CLM and print samples), smoke (seconds; tests).
Reads the committed data/ folder; writes everything to the run folder (default runs/demo-<preset>).`,
  options: {
    preset: { type: 'string', valueName: 'NAME', description: 'quick | full | gpt | smoke', default: 'quick' },
    out: { type: 'string', short: 'o', valueName: 'DIR', description: 'run folder' },
    data: { type: 'string', valueName: 'DIR', description: 'the demo data folder (default: the repository data/)' },
    'pretrain-steps': { type: 'string', valueName: 'N', description: 'pre-train for exactly N steps (no wall-clock cap)' },
    'pretrain-minutes': { type: 'string', valueName: 'M', description: 'wall-clock cap on pre-training, in minutes' },
    seed: { type: 'string', valueName: 'N', description: 'seed of the whole run: corpus order, initialisation, masking, fine-tuning, the sentiment split (default 42)' },
  },
  async run(context) {
    const presetName = stringOption(context.options, 'preset')!;
    const chosen = PRESETS[presetName];
    if (!chosen) throw new PretrainError(`unknown preset "${presetName}"; choose one of ${Object.keys(PRESETS).join(', ')}`);
    const preset = withSeed(withBudget(chosen, numberOption(context.options, 'pretrain-steps'), numberOption(context.options, 'pretrain-minutes')), numberOption(context.options, 'seed'));
    const dataDir = path.resolve(context.io.cwd, stringOption(context.options, 'data') ?? defaultDataDir());
    if (!fs.existsSync(dataDir)) throw new PretrainError(`demo data folder ${dataDir} not found (pass --data DIR)`);
    const runDir = RunDir.create({ out: stringOption(context.options, 'out') ?? path.join('runs', `demo-${presetName}`), cwd: context.io.cwd });
    fs.rmSync(runDir.metricsFile, { force: true });
    registerBuiltins(defaultRegistry);
    await initBackend({ logger: context.log, threads: demoThreads() });
    if (preset.kind === 'gpt') await runGptDemo(context, preset, dataDir, runDir);
    else await runBertDemo(context, preset, dataDir, runDir);
  },
};

async function runBertDemo(context: CommandContext, preset: DemoPreset, dataDir: string, runDir: RunDir): Promise<void> {
  const started = Date.now();
  const env = { stop: stopSignal, progress: context.io.stderr as NodeJS.WriteStream, log: context.log };
  const seed = preset.seed;
  runDir.writeJson('config.json', { preset: preset.name, ...preset });
  const step = (n: number, text: string) => context.log(`\n[${n}/4] ${text} (${formatDuration(Date.now() - started)} elapsed)`);

  const corpusFiles = preset.corpusFiles.map((f) => path.join(dataDir, f));
  step(1, `training a WordPiece tokenizer (${preset.vocabSize} tokens) on ${preset.corpusLabel}`);
  const corpus = await createPlugin('corpus', preset.corpus.name, { ...preset.corpus.options, paths: corpusFiles }, dataDir, seed);
  const tokenizer = await trainTokenizer(sentencesOf(corpus, seed), { type: 'wordpiece', vocabSize: preset.vocabSize });
  runDir.writeText('tokenizer.json', tokenizer.toJSON());

  step(2, `pre-training ${preset.modelLabel} with ${preset.objectivesLabel} for up to ${preset.pretrain.maxSteps} steps / ${formatDuration(preset.pretrain.maxWallClockSeconds * 1000)}`);
  const modelOptions = { ...preset.model.options, vocabSize: tokenizer.getVocabSize() };
  const { backbone, pre } = await pretrainPreset(preset, modelOptions, tokenizer, corpus, dataDir, runDir.dir, env);
  const pretrainedState = backbone.stateDict();

  step(3, `fine-tuning ${preset.tasks.map((t) => t.title).join(', ')}: pre-trained vs from scratch`);
  const outcomes: TaskOutcome[] = [];
  const finetuneLosses: { label: string; points: { x: number; y: number }[] }[] = [];
  for (const task of preset.tasks) {
    const data = loadTaskData(task, dataDir, seed);
    const rows: DemoRow[] = [];
    for (const size of task.sizes) {
      const n = Math.min(size, data.trainSize);
      const steps = finetuneSteps(task.finetune, n);
      const correct: Partial<Record<Arm, Uint8Array>> = {};
      const accuracies: Partial<Record<Arm, number>> = {};
      let groups: Int32Array | undefined;
      for (const arm of ARMS) {
        const model = await createPlugin('model', preset.model.name, modelOptions, dataDir, seed + 1);
        if (arm === 'pretrained') {
          const report = model.loadStateDict(pretrainedState);
          if (report.missing.length > 0 || report.unexpected.length > 0) throw new PretrainError(`loading the pre-trained weights failed: missing ${report.missing.join(', ') || 'none'}; unexpected ${report.unexpected.join(', ') || 'none'}`);
        }
        context.log(`  ${task.title}: fine-tuning ${arm === 'pretrained' ? 'the pre-trained model' : 'from random init'} on ${n} ${task.unit}: ${steps} steps of ${task.finetune.batchSize}`);
        const options = { ...preset.finetuneTrainer, learningRate: task.finetune.learningRate, maxLength: task.finetune.maxLength, maxSteps: steps, batchSize: task.finetune.batchSize };
        const run = await finetuneArm(task, data, n, { model, tokenizer, options, seed, dataDir }, env);
        accuracies[arm] = run.accuracy;
        correct[arm] = run.correct;
        groups = run.groups;
        finetuneLosses.push({ label: `${task.id}, ${arm}, ${n} ${task.unit}`, points: run.losses.map((y, i) => ({ x: i + 1, y })) });
        model.dispose();
        if (run.interrupted) throw new InterruptedError(pre.finalDir);
      }
      const row: DemoRow = { size: n, pretrained: accuracies.pretrained!, scratch: accuracies.scratch!, correct: { pretrained: correct.pretrained!, scratch: correct.scratch! }, groups };
      rows.push(row);
      context.log(`  ${task.title}, ${n} ${task.unit}: pre-trained ${row.pretrained.toFixed(3)} vs scratch ${row.scratch.toFixed(3)} (${formatGain(rowDifference(row))})`);
    }
    outcomes.push({ task, rows });
  }
  for (const t of pretrainedState.values()) t.dispose();

  step(4, 'writing the report');
  const elapsed = Date.now() - started;
  const verdict = judge(outcomes, preset, pre.result.step);
  const before = pre.evalBefore?.loss ?? NaN;
  const after = pre.evalAfter?.loss ?? NaN;
  const tables = outcomes.map((o) =>
    formatTable(
      [`${o.task.title} (${o.task.metric}): labeled ${o.task.unit}`, 'pre-trained', 'scratch', 'gain (95% interval)'],
      o.rows.map((r) => [String(r.size), r.pretrained, r.scratch, formatGain(rowDifference(r))]),
    ),
  );
  const lossLine = `pre-training loss (${preset.objectivesLabel}, held-out documents): before ${before.toFixed(3)} → after ${after.toFixed(3)} (${pre.result.step} steps in ${formatDuration(pre.elapsedMs)}; ${pre.result.reason})`;
  const records = readMetrics(runDir.metricsFile);
  const charts: ReportChart[] = [
    { id: 'pretrain-loss', title: `Pre-training loss (${preset.objectivesLabel})`, xLabel: 'step', yLabel: 'loss', series: lossSeriesFromMetrics(records.filter((r) => r.type === 'train')) },
    ...outcomes.map(
      (o): ReportChart => ({
        id: `accuracy-${o.task.id}`,
        title: `${o.task.title}: validation ${o.task.metric} vs labeled ${o.task.unit}`,
        xLabel: `labeled training ${o.task.unit}`,
        yLabel: o.task.metric,
        logX: true,
        series: [
          { label: 'pre-trained', points: o.rows.map((r) => ({ x: r.size, y: r.pretrained })) },
          { label: 'from scratch', points: o.rows.map((r) => ({ x: r.size, y: r.scratch })) },
        ],
      }),
    ),
    { id: 'finetune-loss', title: 'Fine-tuning loss', xLabel: 'step', yLabel: 'loss', series: finetuneLosses },
  ];
  const reportFile = writeReport(
    runDir.dir,
    {
      title: `Pretrain demo (${preset.name}): does pre-training help?`,
      createdAt: new Date().toISOString(),
      notes: [lossLine, ...verdict, `total time ${formatDuration(elapsed)}`],
      charts,
      tables: [
        ...outcomes.map((o) => ({
          title: `${o.task.title}: validation ${o.task.metric} (${o.task.validationLabel}), pre-trained vs from scratch (same architecture, same fine-tuning budget; gain ± half-width of its paired 95% interval)`,
          columns: [`labeled ${o.task.unit}`, 'pre-trained', 'from scratch', 'gain', '±'],
          rows: o.rows.map((r) => {
            const d = rowDifference(r);
            return [r.size, r.pretrained, r.scratch, d.gain, d.halfWidth95];
          }),
        })),
        { title: 'Pre-training', columns: ['', 'value'], rows: [['held-out loss before', before], ['held-out loss after', after], ['steps', pre.result.step]] },
      ],
      config: preset,
    },
    (file, text) => runDir.writeText(path.basename(file), text),
  );
  print(context, `\n${lossLine}\n\n${tables.join('\n\n')}\n\n${verdict.join('\n')}\n\ntotal time ${formatDuration(elapsed)} · run folder ${runDir.dir}\nreport: ${reportFile}`);
}

const ARMS = ['pretrained', 'scratch'] as const;
type Arm = (typeof ARMS)[number];

/** Fine-tuning steps for n labeled examples: `epochs` passes, within [minSteps, maxSteps]. */
export function finetuneSteps(budget: DemoTask['finetune'], n: number): number {
  return Math.min(budget.maxSteps, Math.max(budget.minSteps, Math.ceil((budget.epochs * n) / budget.batchSize)));
}

/** A task's labeled data: sentiment sentences, or CoNLL sentences tagged with one column. */
type TaskData = { kind: 'sentiment'; splits: LabeledSplits; trainSize: number } | { kind: 'tagging'; train: TaggedSentence[]; validation: TaggedSentence[]; labels: string[]; trainSize: number };

export function loadTaskData(task: DemoTask, dataDir: string, seed: number): TaskData {
  if (task.kind === 'sentiment') {
    const splits = sentimentSplits(dataDir, seed);
    return { kind: 'sentiment', splits, trainSize: splits.train.length };
  }
  const read = (file: string) => readConll(path.join(dataDir, file), { tagColumn: task.tagColumn, tagFormat: 'plain' });
  const train = read(task.train);
  const validation = read(task.validation);
  const labels = [...new Set([...train.labels!.names, ...validation.labels!.names])].sort();
  const sentences = (examples: { tokens: string[]; tags: string[] }[]) => examples.map((e) => ({ words: e.tokens, tags: e.tags }));
  return { kind: 'tagging', train: sentences(train.examples), validation: sentences(validation.examples.slice(0, task.validationLimit)), labels, trainSize: train.examples.length };
}

interface ArmSetup {
  model: BackbonePlugin;
  tokenizer: TokenizerPlugin;
  options: TrainerOptionsInput;
  seed: number;
  dataDir: string;
}

interface ArmResult {
  accuracy: number;
  correct: Uint8Array;
  /** Sentence of each scored word (tagging): the clusters of the paired interval. */
  groups?: Int32Array;
  losses: number[];
  interrupted: boolean;
}

/** One arm of one task: fine-tune `setup.model` on the first n training examples, score the validation set. */
async function finetuneArm(task: DemoTask, data: TaskData, n: number, setup: ArmSetup, env: RunEnvironment): Promise<ArmResult> {
  if (data.kind === 'sentiment') {
    const head = await createPlugin('head', 'sequence-classification', { ...task.head, numLabels: data.splits.labels.length, labels: data.splits.labels }, setup.dataDir, setup.seed);
    try {
      const run = await runFinetuning({ backbone: setup.model, head, tokenizer: setup.tokenizer, splits: { ...data.splits, train: data.splits.train.slice(0, n) }, options: setup.options, seed: setup.seed, keepValidationCorrect: true }, env);
      return { accuracy: run.validation.accuracy, correct: run.validation.correct!, losses: run.result.losses, interrupted: wasInterrupted(run.result) };
    } finally {
      head.dispose();
    }
  }
  const head = await createPlugin('head', 'token-classification', { ...task.head, numLabels: data.labels.length, labels: data.labels }, setup.dataDir, setup.seed);
  try {
    const run = await runTagging({ backbone: setup.model, head, tokenizer: setup.tokenizer, train: data.train.slice(0, n), validation: data.validation, labels: data.labels, options: setup.options, seed: setup.seed }, env);
    return { accuracy: run.validation.accuracy, correct: run.validation.correct, groups: run.validation.sentence, losses: run.result.losses, interrupted: wasInterrupted(run.result) };
  } finally {
    head.dispose();
  }
}

/** What a study may change in the preset's pre-training (scripts/transfer-study.js). */
export interface PretrainOverrides {
  objectives?: DemoPreset['objectives'];
  trainer?: Partial<DemoPreset['pretrain']> & { resume?: boolean; progress?: 'none' };
}

/**
 * Builds the preset's model and objectives and pre-trains them on `corpus` into `outputDir`
 * (checkpoint in `outputDir`/checkpoint); an interrupted run stops the demo.
 */
export async function pretrainPreset(
  preset: DemoPreset,
  modelOptions: Record<string, unknown>,
  tokenizer: Parameters<typeof runPretraining>[0]['tokenizer'],
  corpus: Parameters<typeof runPretraining>[0]['corpus'],
  dataDir: string,
  outputDir: string,
  env: Parameters<typeof runPretraining>[1],
  overrides: PretrainOverrides = {},
) {
  const seed = preset.seed;
  const backbone = await createPlugin('model', preset.model.name, modelOptions, dataDir, seed);
  const objectives = [];
  for (const o of overrides.objectives ?? preset.objectives) objectives.push({ plugin: await createPlugin('objective', o.name, o.options, dataDir, seed), weight: 1 });
  const options = { ...preset.pretrain, outputDir, ...overrides.trainer };
  const pre = await runPretraining(
    { backbone, objectives, tokenizer, corpus, options, seed, finalDir: path.join(outputDir, 'checkpoint'), refs: { model: { name: preset.model.name, options: modelOptions } }, evalDocuments: preset.evalDocuments },
    env,
  );
  if (wasInterrupted(pre.result)) throw new InterruptedError(pre.finalDir);
  return { backbone, pre };
}

/** The sentences of the corpus's training documents, in the seeded order (tokenizer training input). */
export async function* sentencesOf(corpus: CorpusSourcePlugin, seed: number): AsyncGenerator<string> {
  for await (const document of corpus.documents({ split: 'train', seed })) yield* document.sentences;
}

/** One labeled-set size of one task: both arms' validation accuracy and which examples each got right. */
export interface DemoRow {
  size: number;
  pretrained: number;
  scratch: number;
  /** 1 where each arm got that validation example (sentence, or tagged word) right. */
  correct: { pretrained: Uint8Array; scratch: Uint8Array };
  /** Tagging: the sentence of each word, so the interval treats sentences as the independent units. */
  groups?: Int32Array;
}

/** One task's rows, smallest labeled set first. */
export interface TaskOutcome {
  task: DemoTask;
  rows: DemoRow[];
}

function outcomesOf(row: DemoRow): PairedOutcomes {
  return { a: row.correct.pretrained, b: row.correct.scratch, groups: row.groups };
}

function rowDifference(row: DemoRow): PairedDifference {
  return pairedDifference([outcomesOf(row)]);
}

function points(value: number, signed = true): string {
  return `${signed && value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}`;
}

function formatGain(d: PairedDifference): string {
  return `${points(d.gain)} ± ${points(d.halfWidth95, false)} pt`;
}

/** What a task's rows show: a clear gain needs the smallest labeled set's interval above zero and a positive average. */
export type TaskVerdict = 'helps' | 'not clear' | 'hurts';

export function taskVerdict(rows: DemoRow[]): { verdict: TaskVerdict; smallest: PairedDifference; average: PairedDifference } {
  const smallest = rowDifference(rows[0]);
  const average = pairedDifference(rows.map(outcomesOf));
  const verdict: TaskVerdict = smallest.gain - smallest.halfWidth95 > 0 && average.gain > 0 ? 'helps' : average.gain + average.halfWidth95 < 0 ? 'hurts' : 'not clear';
  return { verdict, smallest, average };
}

/**
 * The verdict, one line per task and a summary: pre-training helps a task when the paired 95%
 * interval at its smallest labeled set lies above zero and its average gain over the sizes is
 * positive; an average interval below zero is reported as hurting.
 */
export function judge(outcomes: TaskOutcome[], preset: DemoPreset, pretrainSteps: number): string[] {
  const budget = `${pretrainSteps} pre-training steps of ${preset.pretrain.batchSize} × ${preset.pretrain.maxLength} tokens`;
  const lines: string[] = [];
  const helped: string[] = [];
  const missed: TaskOutcome[] = [];
  for (const outcome of outcomes) {
    const { verdict, smallest, average } = taskVerdict(outcome.rows);
    const what = verdict === 'helps' ? 'pre-training helps' : verdict === 'hurts' ? 'pre-training HURTS' : 'the gain is NOT clear';
    lines.push(`${outcome.task.title}: ${what}: ${formatGain(smallest)} with ${outcome.rows[0].size} labeled ${outcome.task.unit}, ${formatGain(average)} on average over ${outcome.rows.length} sizes (paired 95% intervals).`);
    if (verdict === 'helps') helped.push(outcome.task.title);
    else missed.push(outcome);
  }
  const summary = helped.length > 0 ? `At this budget (${budget}) pre-training beats training from scratch on ${helped.length} of ${outcomes.length} tasks: ${helped.join(', ')}.` : `At this budget (${budget}) pre-training beats training from scratch on none of the ${outcomes.length} tasks.`;
  const notes = missed.flatMap((o) => (o.task.budgetNote ? [`${o.task.title}: ${o.task.budgetNote}`] : []));
  return [summary, ...lines, ...notes];
}

/** The preset with its pre-training budget overridden from the command line. */
export function withBudget(preset: DemoPreset, steps: number | undefined, minutes: number | undefined): DemoPreset {
  const pretrain = { ...preset.pretrain };
  if (steps !== undefined) {
    if (!Number.isInteger(steps) || steps < 1) throw new PretrainError(`--pretrain-steps must be a positive integer, got ${steps}`);
    pretrain.maxSteps = steps;
    pretrain.maxWallClockSeconds = 24 * 3600;
  }
  if (minutes !== undefined) {
    if (!(minutes > 0)) throw new PretrainError(`--pretrain-minutes must be positive, got ${minutes}`);
    pretrain.maxWallClockSeconds = Math.round(minutes * 60);
  }
  return { ...preset, pretrain };
}

/** The preset with the seed given on the command line. */
export function withSeed(preset: DemoPreset, seed: number | undefined): DemoPreset {
  if (seed === undefined) return preset;
  if (!Number.isInteger(seed) || seed < 0) throw new PretrainError(`--seed must be a non-negative integer, got ${seed}`);
  return { ...preset, seed };
}

/** UCI sentences (Amazon, IMDB, Yelp): 3,000 labeled sentences, a fixed 600-sentence validation split. */
export function sentimentSplits(dataDir: string, seed: number): LabeledSplits {
  const files = ['amazon_cells_labelled.txt', 'imdb_labelled.txt', 'yelp_labelled.txt'];
  const all: LabeledText[] = files.flatMap((f) => readLabeledFile({ path: path.join(dataDir, 'sentiment', f), format: 'tsv', text: 0, label: 1, header: false }, dataDir));
  const mixed = shuffled(all, new Rng(seed));
  const validation = mixed.slice(0, 600);
  return { train: mixed.slice(600), validation, labels: ['0', '1'] };
}

async function runGptDemo(context: CommandContext, preset: DemoPreset, dataDir: string, runDir: RunDir): Promise<void> {
  const started = Date.now();
  const env = { stop: stopSignal, progress: context.io.stderr as NodeJS.WriteStream, log: context.log };
  const seed = preset.seed;
  runDir.writeJson('config.json', { preset: preset.name, ...preset });
  context.log(`[1/3] training a byte-level BPE tokenizer (${preset.vocabSize} tokens) on tiny-shakespeare`);
  const corpus = await createPlugin('corpus', preset.corpus.name, { ...preset.corpus.options, paths: preset.corpusFiles.map((f) => path.join(dataDir, f)) }, dataDir, seed);
  const tokenizer = await trainTokenizer(sentencesOf(corpus, seed), { type: 'bpe', vocabSize: preset.vocabSize });
  runDir.writeText('tokenizer.json', tokenizer.toJSON());
  context.log(`[2/3] pre-training ${preset.modelLabel} with CLM for up to ${preset.pretrain.maxSteps} steps / ${formatDuration(preset.pretrain.maxWallClockSeconds * 1000)}`);
  const endOfText = tokenizer.specialTokenIds().eos ?? tokenizer.tokenToId('<|endoftext|>');
  const modelOptions = { ...preset.model.options, vocabSize: tokenizer.getVocabSize(), bosTokenId: endOfText, eosTokenId: endOfText };
  const { backbone, pre } = await pretrainPreset(preset, modelOptions, tokenizer, corpus, dataDir, runDir.dir, env);
  context.log('[3/3] sampling');
  const samples: string[] = [];
  const prompt = preset.samples?.prompt ?? '\n';
  for (let i = 0; i < (preset.samples?.count ?? 2); i++) {
    const ids = sampleTokens(backbone, tokenizer.encode(prompt, null, { addSpecialTokens: false }).ids, { maxNewTokens: preset.samples?.maxNewTokens ?? 60, temperature: 0.8, topK: 40, seed: seed + i, eosId: tokenizer.specialTokenIds().eos });
    samples.push(prompt + tokenizer.decode(ids));
  }
  const lossLine = `CLM loss (held-out documents): before ${(pre.evalBefore?.loss ?? NaN).toFixed(3)} → after ${(pre.evalAfter?.loss ?? NaN).toFixed(3)} (${pre.result.step} steps in ${formatDuration(pre.elapsedMs)}; ${pre.result.reason})`;
  const records = readMetrics(runDir.metricsFile);
  const reportFile = writeReport(
    runDir.dir,
    {
      title: 'Pretrain demo (gpt): a small GPT on tiny-shakespeare',
      createdAt: new Date().toISOString(),
      notes: [lossLine, ...samples.map((s, i) => `sample ${i + 1}: ${s}`)],
      charts: [{ id: 'pretrain-loss', title: 'CLM loss', xLabel: 'step', yLabel: 'loss', series: lossSeriesFromMetrics(records.filter((r) => r.type === 'train')) }],
      tables: [{ title: 'Pre-training', columns: ['', 'value'], rows: [['held-out loss before', pre.evalBefore?.loss ?? null], ['held-out loss after', pre.evalAfter?.loss ?? null], ['steps', pre.result.step]] }],
      config: preset,
    },
    (file, text) => runDir.writeText(path.basename(file), text),
  );
  print(context, `\n${lossLine}\n\n${samples.map((s, i) => `--- sample ${i + 1}\n${s}`).join('\n\n')}\n\ncheckpoint: ${pre.finalDir} (try: pretrain generate --checkpoint ${pre.finalDir})\ntotal time ${formatDuration(Date.now() - started)} · report: ${reportFile}`);
}

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { BackbonePlugin, CorpusSourcePlugin, PluginKind, PluginKinds, PretrainError, TokenizerPlugin, defaultRegistry, initBackend } from '@pretrain/core';
import { readConll } from '@pretrain/corpus';
import type { TrainerOptionsInput } from '@pretrain/trainer';
import { registerBuiltins } from '../builtins';
import { Command, CommandContext, numberOption, stringOption } from '../command';
import { stopSignal, InterruptedError } from '../interrupt';
import { ReportChart, lossSeriesFromMetrics, readMetrics, writeReport } from '../report';
import { RunDir } from '../run-dir';
import { formatDuration } from '../progress';
import { LabeledSplits, LabeledText, readLabeledTsv, shuffled } from '../pipeline/task-data';
import { Rng } from '@pretrain/core';
import { loadTokenizer } from '@pretrain/tokenizer';
import { trainTokenizer } from '../pipeline/tokenizers';
import { readBackboneTensors } from '../pipeline/checkpoint';
import { RunEnvironment, runFinetuning, runPretraining, wasInterrupted } from '../pipeline/train';
import { cliBackendChoice } from '../pipeline/experiment';
import { PairedDifference, PairedOutcomes, pairedDifference } from '../pipeline/paired';
import { TaggedSentence, runTagging } from '../pipeline/tagging';
import { sampleText, sampleTokens } from '../pipeline/generate';
import { formatTable, print } from './shared';
import { DemoPreset, DemoTask, PRESETS } from './demo-presets';

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
    const steps = numberOption(context.options, 'pretrain-steps');
    const minutes = numberOption(context.options, 'pretrain-minutes');
    const requested = withSeed(withBudget(chosen, steps, minutes), numberOption(context.options, 'seed'));
    const dataDir = path.resolve(context.io.cwd, stringOption(context.options, 'data') ?? defaultDataDir());
    if (!fs.existsSync(dataDir)) throw new PretrainError(`demo data folder ${dataDir} not found (pass --data DIR)`);
    const runDir = RunDir.create({ out: stringOption(context.options, 'out') ?? path.join('runs', `demo-${presetName}`), cwd: context.io.cwd });
    fs.rmSync(runDir.metricsFile, { force: true });
    registerBuiltins(defaultRegistry);
    const backend = await initBackend({ logger: context.log, ...cliBackendChoice() });
    const preset = steps === undefined && minutes === undefined ? withBackendBudget(requested, backend.name) : requested;
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
  const shipped = preset.shipped ? readShippedCheckpoint(preset.shipped, dataDir, tokenizer) : undefined;
  if (shipped && 'skipped' in shipped) context.log(`note: not fine-tuning the committed checkpoint: ${shipped.skipped}`);

  step(2, `pre-training ${preset.modelLabel} with ${preset.objectivesLabel} for up to ${preset.pretrain.maxSteps} steps / ${formatDuration(preset.pretrain.maxWallClockSeconds * 1000)}`);
  const modelOptions = { ...preset.model.options, vocabSize: tokenizer.getVocabSize() };
  const { backbone, pre } = await pretrainPreset(preset, modelOptions, tokenizer, corpus, dataDir, runDir.dir, env);
  const starts: Partial<Record<PretrainedArm, Map<string, tf.Tensor>>> = { live: backbone.stateDict(), ...(shipped && 'state' in shipped ? { shipped: shipped.state } : {}) };
  backbone.dispose();
  const labels: Record<PretrainedArm, string> = { live: `this run's pre-training (${pre.result.step} steps)`, shipped: starts.shipped ? `the committed checkpoint pre-trained for ${preset.shipped!.recipe ?? `${preset.shipped!.steps} steps`} (data/${preset.shipped!.dir})` : '' };

  step(3, `fine-tuning ${preset.tasks.map((t) => t.title).join(', ')}: ${starts.shipped ? 'the committed checkpoint and ' : ''}this run's pre-training vs from scratch`);
  const outcomes: TaskOutcome[] = [];
  const finetuneLosses: { label: string; points: { x: number; y: number }[] }[] = [];
  for (const task of preset.tasks) {
    const data = loadTaskData(task, dataDir, seed);
    const rows: DemoRow[] = [];
    for (const [sizeIndex, size] of task.sizes.entries()) {
      const n = Math.min(size, data.trainSize);
      const steps = finetuneSteps(task.finetune, n);
      const arms = armsAt(preset, sizeIndex, starts);
      const scores: Partial<Record<Arm, ArmScore>> = {};
      let groups: Int32Array | undefined;
      for (const arm of arms) {
        const model = await createPlugin('model', preset.model.name, modelOptions, dataDir, seed + 1);
        if (arm !== 'scratch') {
          const report = model.loadStateDict(starts[arm]!);
          if (report.missing.length > 0 || report.unexpected.length > 0) throw new PretrainError(`loading the ${arm} weights failed: missing ${report.missing.join(', ') || 'none'}; unexpected ${report.unexpected.join(', ') || 'none'}`);
        }
        context.log(`  ${task.title}: fine-tuning ${arm === 'scratch' ? 'from random init' : `from ${labels[arm]}`} on ${n} ${task.unit}: ${steps} steps of ${task.finetune.batchSize}`);
        const options = { ...preset.finetuneTrainer, learningRate: task.finetune.learningRate, maxLength: task.finetune.maxLength, maxSteps: steps, batchSize: task.finetune.batchSize };
        const run = await finetuneArm(task, data, n, { model, tokenizer, options, seed, dataDir }, env);
        scores[arm] = { accuracy: run.accuracy, correct: run.correct };
        groups = run.groups;
        finetuneLosses.push({ label: `${task.id}, ${arm}, ${n} ${task.unit}`, points: run.losses.map((y, i) => ({ x: i + 1, y })) });
        model.dispose();
        if (run.interrupted) throw new InterruptedError(pre.finalDir);
      }
      const { scratch, ...pretrained } = scores;
      const row: DemoRow = { size: n, scratch: scratch!, pretrained, groups };
      rows.push(row);
      const compared = PRETRAINED_ARMS.filter((a) => row.pretrained[a]).map((a) => `${a} ${row.pretrained[a]!.accuracy.toFixed(3)} (${formatGain(rowDifference(row, a))})`);
      context.log(`  ${task.title}, ${n} ${task.unit}: scratch ${row.scratch.accuracy.toFixed(3)}; ${compared.join('; ')}`);
    }
    outcomes.push({ task, rows });
  }
  for (const state of Object.values(starts)) for (const t of state!.values()) t.dispose();

  step(4, 'writing the report');
  const elapsed = Date.now() - started;
  const verdict = judge(outcomes, preset, { live: pre.result.step, shipped: preset.shipped?.steps });
  const before = pre.evalBefore?.loss ?? NaN;
  const after = pre.evalAfter?.loss ?? NaN;
  const armsShown = PRETRAINED_ARMS.filter((a) => outcomes.some((o) => o.rows.some((r) => r.pretrained[a])));
  const tables = outcomes.map((o) =>
    formatTable(
      [`${o.task.title} (${o.task.metric}): labeled ${o.task.unit}`, 'scratch', ...armsShown.flatMap((a) => [a, 'gain (95% interval)'])],
      o.rows.map((r) => [String(r.size), r.scratch.accuracy, ...armsShown.flatMap((a) => (r.pretrained[a] ? [r.pretrained[a]!.accuracy, formatGain(rowDifference(r, a))] : [null, null]))]),
    ),
  );
  const lossLine = `pre-training loss (${preset.objectivesLabel}, held-out documents): before ${before.toFixed(3)} → after ${after.toFixed(3)} (${pre.result.step} steps in ${formatDuration(pre.elapsedMs)}; ${pre.result.reason})`;
  const armLines = armsShown.map((a) => `${a} = ${labels[a]}`);
  const records = readMetrics(runDir.metricsFile);
  const charts: ReportChart[] = [
    { id: 'pretrain-loss', title: `Pre-training loss (${preset.objectivesLabel}), this run`, xLabel: 'step', yLabel: 'loss', series: lossSeriesFromMetrics(records.filter((r) => r.type === 'train')) },
    ...outcomes.map(
      (o): ReportChart => ({
        id: `accuracy-${o.task.id}`,
        title: `${o.task.title}: validation ${o.task.metric} vs labeled ${o.task.unit}`,
        xLabel: `labeled training ${o.task.unit}`,
        yLabel: o.task.metric,
        logX: true,
        series: [
          { label: 'from scratch', points: o.rows.map((r) => ({ x: r.size, y: r.scratch.accuracy })) },
          ...armsShown.map((a) => ({ label: a === 'live' ? 'pre-trained (this run)' : 'pre-trained (shipped checkpoint)', points: o.rows.filter((r) => r.pretrained[a]).map((r) => ({ x: r.size, y: r.pretrained[a]!.accuracy })) })),
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
      notes: [lossLine, ...armLines, ...verdict, `total time ${formatDuration(elapsed)}`],
      charts,
      tables: [
        ...outcomes.map((o) => ({
          title: `${o.task.title}: validation ${o.task.metric} (${o.task.validationLabel}), pre-trained vs from scratch (same architecture, same fine-tuning budget; gain ± half-width of its paired 95% interval)`,
          columns: [`labeled ${o.task.unit}`, 'from scratch', ...armsShown.flatMap((a) => [a, `${a} gain`, '±'])],
          rows: o.rows.map((r) => [
            r.size,
            r.scratch.accuracy,
            ...armsShown.flatMap((a) => {
              if (!r.pretrained[a]) return [null, null, null];
              const d = rowDifference(r, a);
              return [r.pretrained[a]!.accuracy, d.gain, d.halfWidth95];
            }),
          ]),
        })),
        { title: 'Pre-training (this run)', columns: ['', 'value'], rows: [['held-out loss before', before], ['held-out loss after', after], ['steps', pre.result.step]] },
      ],
      config: preset,
    },
    (file, text) => runDir.writeText(path.basename(file), text),
  );
  print(context, `\n${lossLine}\n${armLines.join('\n')}\n\n${tables.join('\n\n')}\n\n${verdict.join('\n')}\n\ntotal time ${formatDuration(elapsed)} · run folder ${runDir.dir}\nreport: ${reportFile}`);
}

/**
 * The committed checkpoint pre-trained longer by the same recipe. Its tokenizer must be the one this
 * run trained (the same text gives the same vocabulary), else its token ids would mean other words:
 * with other demo data (--data) it is skipped, with the reason.
 */
export function readShippedCheckpoint(shipped: NonNullable<DemoPreset['shipped']>, dataDir: string, tokenizer: TokenizerPlugin): { state: Map<string, tf.Tensor> } | { skipped: string } {
  const dir = path.join(dataDir, shipped.dir);
  if (!fs.existsSync(dir)) return { skipped: `${dir} does not exist` };
  const shippedTokenizer = loadTokenizer(dir);
  if (shippedTokenizer.hash() !== tokenizer.hash()) return { skipped: `${dir} was pre-trained with another tokenizer than the one trained on this corpus (hash ${shippedTokenizer.hash().slice(0, 12)} vs ${tokenizer.hash().slice(0, 12)}); rebuild it with the command in its README.md` };
  const state = readBackboneTensors(dir, 'bert');
  return { state };
}

/** Where a fine-tuning run starts: a pre-trained backbone (shipped with the repo, or pre-trained by this run) or random init. */
const PRETRAINED_ARMS = ['shipped', 'live'] as const;
export type PretrainedArm = (typeof PRETRAINED_ARMS)[number];
type Arm = PretrainedArm | 'scratch';

/** The arms fine-tuned at a task's size: the live pre-training only at the sizes the preset gives it the budget for. */
function armsAt(preset: DemoPreset, sizeIndex: number, starts: Partial<Record<PretrainedArm, unknown>>): Arm[] {
  const arms: Arm[] = [];
  if (starts.shipped) arms.push('shipped');
  if (starts.live && sizeIndex < (preset.liveSizes ?? Infinity)) arms.push('live');
  arms.push('scratch');
  return arms;
}

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
  /** Backbone tensors to start from instead of the random initialisation (continued pre-training). */
  initialBackbone?: Map<string, tf.Tensor>;
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
  if (overrides.initialBackbone) startFrom(backbone, overrides.initialBackbone);
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

function startFrom(backbone: BackbonePlugin, state: Map<string, tf.Tensor>): void {
  const report = backbone.loadStateDict(state);
  if (report.missing.length || report.unexpected.length) {
    backbone.dispose();
    throw new PretrainError(`initial backbone does not fit the model: missing ${report.missing.join(', ') || 'none'}; unexpected ${report.unexpected.join(', ') || 'none'}`, { path: 'model' });
  }
}

/** The sentences of the corpus's training documents, in the seeded order (tokenizer training input). */
export async function* sentencesOf(corpus: CorpusSourcePlugin, seed: number): AsyncGenerator<string> {
  for await (const document of corpus.documents({ split: 'train', seed })) yield* document.sentences;
}

/** One arm's validation result: its accuracy and which examples it got right. */
export interface ArmScore {
  accuracy: number;
  /** 1 where the arm got that validation example (sentence, or tagged word) right. */
  correct: Uint8Array;
}

/** One labeled-set size of one task: the scratch arm and each pre-trained arm fine-tuned there. */
export interface DemoRow {
  size: number;
  scratch: ArmScore;
  pretrained: Partial<Record<PretrainedArm, ArmScore>>;
  /** Tagging: the sentence of each word, so the interval treats sentences as the independent units. */
  groups?: Int32Array;
}

/** One task's rows, smallest labeled set first. */
export interface TaskOutcome {
  task: DemoTask;
  rows: DemoRow[];
}

function outcomesOf(row: DemoRow, arm: PretrainedArm): PairedOutcomes {
  return { a: row.pretrained[arm]!.correct, b: row.scratch.correct, groups: row.groups };
}

function rowDifference(row: DemoRow, arm: PretrainedArm): PairedDifference {
  return pairedDifference([outcomesOf(row, arm)]);
}

function points(value: number, signed = true): string {
  return `${signed && value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}`;
}

function formatGain(d: PairedDifference): string {
  return `${points(d.gain)} ± ${points(d.halfWidth95, false)} pt`;
}

/** What a task's rows show for one pre-trained arm. */
export type TaskVerdict = 'helps' | 'not clear' | 'hurts';

/**
 * A clear gain needs the paired 95% interval at the smallest labeled set above zero and a positive
 * average gain over the sizes the arm was fine-tuned at; an average interval below zero is a loss.
 */
export function taskVerdict(rows: DemoRow[], arm: PretrainedArm): { verdict: TaskVerdict; smallest: PairedDifference; average: PairedDifference; sizes: number } {
  const compared = rows.filter((r) => r.pretrained[arm]);
  const smallest = rowDifference(compared[0], arm);
  const average = pairedDifference(compared.map((r) => outcomesOf(r, arm)));
  const verdict: TaskVerdict = smallest.gain - smallest.halfWidth95 > 0 && average.gain > 0 ? 'helps' : average.gain + average.halfWidth95 < 0 ? 'hurts' : 'not clear';
  return { verdict, smallest, average, sizes: compared.length };
}

const ARM_NAMES: Record<PretrainedArm, string> = { shipped: 'the shipped checkpoint', live: "this run's pre-training" };

/**
 * The verdict: for each pre-trained arm a summary (on how many tasks it beats scratch) and one line
 * per task; then the budget notes of the tasks no arm helped.
 */
export function judge(outcomes: TaskOutcome[], preset: DemoPreset, steps: Partial<Record<PretrainedArm, number>>): string[] {
  const lines: string[] = [];
  const helpedSomewhere = new Set<string>();
  for (const arm of PRETRAINED_ARMS) {
    const withArm = outcomes.filter((o) => o.rows.some((r) => r.pretrained[arm]));
    if (withArm.length === 0) continue;
    const recipe = arm === 'shipped' ? preset.shipped?.recipe : undefined;
    const tokens = `${preset.pretrain.batchSize} × ${preset.pretrain.maxLength} tokens`;
    const budget = recipe ? `${recipe}, batches of ${tokens}` : `${steps[arm] ?? '?'} pre-training steps of ${tokens}`;
    const perTask = withArm.map((o) => ({ o, ...taskVerdict(o.rows, arm) }));
    const helped = perTask.filter((t) => t.verdict === 'helps').map((t) => t.o.task.title);
    helped.forEach((title) => helpedSomewhere.add(title));
    lines.push(`${ARM_NAMES[arm].replace(/^t/, 'T')} (${budget}) beats training from scratch on ${helped.length === 0 ? 'none' : helped.length} of ${withArm.length} tasks${helped.length > 0 ? `: ${helped.join(', ')}` : ''}.`);
    for (const t of perTask) {
      const what = t.verdict === 'helps' ? 'helps' : t.verdict === 'hurts' ? 'HURTS' : 'gain NOT clear';
      const average = t.sizes > 1 ? `, ${formatGain(t.average)} on average over ${t.sizes} sizes` : '';
      lines.push(`  ${t.o.task.title}: ${what}: ${formatGain(t.smallest)} with ${t.o.rows[0].size} labeled ${t.o.task.unit}${average} (paired 95% intervals).`);
    }
  }
  const notes = outcomes.filter((o) => !helpedSomewhere.has(o.task.title) && o.task.budgetNote).map((o) => `${o.task.title}: ${o.task.budgetNote}`);
  return [...lines, ...notes];
}

/** The preset's live pre-training budget for the backend that runs it (native: `nativePretrainSeconds`). */
export function withBackendBudget(preset: DemoPreset, backend: string): DemoPreset {
  if (backend !== 'native' || preset.nativePretrainSeconds === undefined) return preset;
  return { ...preset, pretrain: { ...preset.pretrain, maxWallClockSeconds: preset.nativePretrainSeconds } };
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
  const all: LabeledText[] = files.flatMap((f) => readLabeledTsv(path.join(dataDir, 'sentiment', f)).map(({ text, label }) => ({ text: text.trim(), label })));
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
    samples.push(prompt + sampleText(tokenizer, ids));
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

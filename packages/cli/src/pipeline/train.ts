import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BackbonePlugin,
  Batch,
  CorpusSourcePlugin,
  ObjectivePlugin,
  PretrainError,
  Rng,
  TaskHeadPlugin,
  TokenizerPlugin,
} from '@pretrain/core';
import { accuracy, argmaxRows } from '@pretrain/heads';
import type { StopSignal } from '../interrupt';
import type { ProgressStream } from '../progress';
import type { RunDir } from '../run-dir';
import { epochBatches, inOrderBatches, labeledExamples, padIdOf, pretrainingBatches } from './batches';
import { saveCheckpoint } from './checkpoint';
import { LabeledSplits } from './labeled';
import { LoopResult, trainLoop } from './loop';
import { FinetuningModel, PretrainingModel } from './models';
import type { TrainerSettings } from './settings';

export interface RunEnvironment {
  runDir: RunDir;
  stop: StopSignal;
  progress?: ProgressStream;
  log(line: string): void;
}

export interface PretrainInputs {
  backbone: BackbonePlugin;
  objectives: { plugin: ObjectivePlugin; weight: number }[];
  tokenizer: TokenizerPlugin;
  corpus: CorpusSourcePlugin;
  settings: TrainerSettings;
  seed: number;
  /** Saved into the checkpoint so `pretrain finetune --from` can rebuild the same model. */
  pluginRefs: Record<string, unknown>;
  /** Checkpoint folder name inside the run folder. */
  checkpointName?: string;
  phase?: string;
  evalBatches?: number;
}

export interface PretrainResult {
  loop: LoopResult;
  /** Mean loss on fixed held-out batches before and after training (same masks both times). */
  evalLossBefore: number;
  evalLossAfter: number;
  checkpointDir: string;
}

export async function runPretraining(inputs: PretrainInputs, env: RunEnvironment): Promise<PretrainResult> {
  const { backbone, tokenizer, settings, seed } = inputs;
  const objectivePlugins = inputs.objectives.map((o) => o.plugin);
  const rng = new Rng(seed);
  for (const objective of objectivePlugins) objective.init({ backbone, tokenizer, rng });
  const builders = objectivePlugins.filter((o) => o.exampleBuilder);
  if (builders.length !== 1) throw new PretrainError(`pre-training needs exactly one objective that builds examples (got ${builders.length})`);
  const model = new PretrainingModel(backbone, inputs.objectives, seed);
  const makeBatches = (split: 'train' | 'validation', batchSeed: number, onePass: boolean) =>
    pretrainingBatches({
      corpus: inputs.corpus,
      tokenizer,
      builder: builders[0].exampleBuilder!,
      objectives: objectivePlugins,
      batchSize: settings.batchSize,
      maxLength: settings.maxLength,
      seed: batchSeed,
      split,
      onePass,
    });
  const evalSet = await heldOutBatches(makeBatches, inputs.evalBatches ?? 4, seed, env.log);
  const evalLoss = () => meanEvalLoss(model, evalSet);
  const evalLossBefore = evalLoss();
  const phase = inputs.phase ?? 'pretrain';
  env.runDir.logMetrics({ phase: `${phase}/eval`, step: 0, loss: evalLossBefore });
  const loop = await trainLoop(model, makeBatches('train', seed, false), {
    phase,
    maxSteps: settings.maxSteps,
    learningRate: settings.learningRate,
    warmupSteps: settings.warmupSteps,
    weightDecay: settings.weightDecay,
    clipNorm: settings.clipNorm,
    schedule: settings.schedule,
    logEvery: settings.logEvery,
    evalEvery: settings.evalEvery,
    timeBudgetMs: settings.timeBudgetMinutes ? settings.timeBudgetMinutes * 60_000 : undefined,
    stop: env.stop,
    progress: env.progress,
    logMetrics: (record) => env.runDir.logMetrics(record),
    evaluate: async () => ({ loss: evalLoss() }),
  });
  const evalLossAfter = loop.evaluations[loop.evaluations.length - 1]?.metrics.loss ?? evalLoss();
  const checkpointDir = saveCheckpoint(env.runDir.path(inputs.checkpointName ?? 'checkpoint'), {
    backbone,
    modules: objectivePlugins,
    tokenizer,
    config: { architectures: [architectureFor(backbone, 'pretraining')] },
    state: { step: loop.steps, stoppedBy: loop.stoppedBy, pretrain: inputs.pluginRefs, evalLossBefore, evalLossAfter },
  });
  return { loop, evalLossBefore, evalLossAfter, checkpointDir };
}

async function heldOutBatches(
  make: (split: 'train' | 'validation', seed: number, onePass: boolean) => () => Promise<Batch | undefined>,
  count: number,
  seed: number,
  log: (line: string) => void,
): Promise<Batch[]> {
  const collect = async (next: () => Promise<Batch | undefined>) => {
    const out: Batch[] = [];
    while (out.length < count) {
      const batch = await next();
      if (!batch) break;
      out.push(batch);
    }
    return out;
  };
  const validation = await collect(make('validation', seed + 1, true));
  if (validation.length > 0) return validation;
  log('note: the corpus has no validation split (corpus.options.validationFraction); measuring loss on training batches');
  return collect(make('train', seed + 1, false));
}

function meanEvalLoss(model: PretrainingModel, batches: Batch[]): number {
  if (batches.length === 0) return NaN;
  let sum = 0;
  for (const batch of batches) sum += tf.tidy(() => model.evaluate(batch).loss.dataSync()[0]);
  return sum / batches.length;
}

function architectureFor(backbone: BackbonePlugin, kind: 'pretraining'): string {
  if (backbone.info.modelType === 'bert') return 'BertForPreTraining';
  if (backbone.info.modelType === 'gpt2') return 'GPT2LMHeadModel';
  return `${backbone.info.modelType}-${kind}`;
}

export interface FinetuneInputs {
  backbone: BackbonePlugin;
  head: TaskHeadPlugin;
  tokenizer: TokenizerPlugin;
  splits: LabeledSplits;
  settings: TrainerSettings;
  seed: number;
  phase?: string;
  /** Omit to skip writing a checkpoint (demo sweeps). */
  checkpointName?: string;
  pluginRefs?: Record<string, unknown>;
}

export interface FinetuneResult {
  loop: LoopResult;
  validation: { accuracy: number; examples: number };
  checkpointDir?: string;
}

export async function runFinetuning(inputs: FinetuneInputs, env: RunEnvironment): Promise<FinetuneResult> {
  const { backbone, head, tokenizer, splits, settings, seed } = inputs;
  head.init({ backbone, rng: new Rng(seed + 3) });
  const model = new FinetuningModel(backbone, head, seed);
  const padId = padIdOf(tokenizer);
  const train = labeledExamples(tokenizer, splits.train, splits.labels, settings.maxLength);
  const validation = labeledExamples(tokenizer, splits.validation, splits.labels, settings.maxLength);
  const maxSteps = settings.epochs ? Math.max(1, Math.ceil((settings.epochs * train.length) / settings.batchSize)) : settings.maxSteps;
  const phase = inputs.phase ?? 'finetune';
  const loop = await trainLoop(model, epochBatches(train, settings.batchSize, padId, seed), {
    phase,
    maxSteps,
    learningRate: settings.learningRate,
    warmupSteps: settings.warmupSteps,
    weightDecay: settings.weightDecay,
    clipNorm: settings.clipNorm,
    schedule: settings.schedule,
    logEvery: settings.logEvery,
    evalEvery: settings.evalEvery,
    timeBudgetMs: settings.timeBudgetMinutes ? settings.timeBudgetMinutes * 60_000 : undefined,
    stop: env.stop,
    progress: env.progress,
    logMetrics: (record) => env.runDir.logMetrics(record),
    evaluate: async () => ({ accuracy: classificationAccuracy(model, validation, settings.batchSize, padId) }),
  });
  const validationAccuracy = loop.evaluations[loop.evaluations.length - 1]?.metrics.accuracy ?? NaN;
  let checkpointDir: string | undefined;
  if (inputs.checkpointName) {
    checkpointDir = saveCheckpoint(env.runDir.path(inputs.checkpointName), {
      backbone,
      modules: [head],
      tokenizer,
      config: head.configJSON(),
      state: { step: loop.steps, stoppedBy: loop.stoppedBy, pretrain: { ...inputs.pluginRefs, labels: splits.labels }, validationAccuracy },
    });
  }
  return { loop, validation: { accuracy: validationAccuracy, examples: validation.length }, checkpointDir };
}

/** Predicted label ids for examples, batch by batch without dropout. */
export function predictLabels(model: FinetuningModel, examples: ReturnType<typeof labeledExamples>, batchSize: number, padId: number): { predictions: Int32Array; probabilities: Float32Array[] } {
  const predictions: number[] = [];
  const probabilities: Float32Array[] = [];
  for (const batch of inOrderBatches(examples, batchSize, padId)) {
    const { values, width } = model.predict(batch);
    predictions.push(...argmaxRows(values, width));
    for (let row = 0; row < batch.size; row++) probabilities.push(softmax(values.subarray(row * width, (row + 1) * width)));
  }
  return { predictions: Int32Array.from(predictions), probabilities };
}

export function classificationAccuracy(model: FinetuningModel, examples: ReturnType<typeof labeledExamples>, batchSize: number, padId: number): number {
  if (examples.length === 0) return NaN;
  const { predictions } = predictLabels(model, examples, batchSize, padId);
  const references = Int32Array.from(examples.map((e) => e.labels!.labels));
  return accuracy(predictions, references);
}

function softmax(logits: Float32Array): Float32Array {
  const max = Math.max(...logits);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return Float32Array.from(exps, (v) => v / sum);
}

export function checkpointPath(dir: string, name: string): string {
  return path.join(dir, name);
}

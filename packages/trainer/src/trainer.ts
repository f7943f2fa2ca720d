import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import {
  batchToTensors,
  PretrainError,
  writeFileAtomic,
  Rng,
  sortConfigKeys,
  type BackbonePlugin,
  type Batch,
  type Example,
  type Prediction,
  type StepEvent,
  type TaskHeadPlugin,
  type TokenizerPlugin,
  type TrainerCallbackPlugin,
  type TrainingTask,
} from '@pretrain/core';
import { AdamW, defaultDecays } from './adamw';
import { NonFiniteTensorError, makeTempDir, removeStaleTemporaries, latestCheckpoint, loadModel, pruneCheckpoints, readOptimizerTensors, readTrainerState, saveCheckpoint, saveModel, type ModelParts, type TrainerState } from './checkpoint';
import { clipByGlobalNorm, globalNorm } from './clip';
import { BatchSource, deriveSeed, isDocumentSource, type TrainingData } from './data';
import { MetricsLog } from './metrics-log';
import { greaterIsBetter, trainerOptionsSchema, type TrainerOptions, type TrainerOptionsInput } from './options';
import { createProgress, type ProgressReporter } from './progress';
import { lrMultiplier, resolveWarmupSteps, type ScheduleOptions } from './schedule';
import { isTrainable, layerwiseLrScale, type ParameterOwner } from './strategies';
import { HeadTask, ObjectivesTask, type ComputeMetrics, type WeightedObjective } from './tasks';

export type { Prediction } from '@pretrain/core';
export type { ComputeMetrics, WeightedObjective } from './tasks';

export interface TrainerSetup {
  backbone: BackbonePlugin;
  /** Pre-training: objectives with weights; exactly one must build examples when training on documents. */
  objectives?: WeightedObjective[];
  /** Fine-tuning: the task head. */
  head?: TaskHeadPlugin;
  tokenizer?: TokenizerPlugin;
  callbacks?: TrainerCallbackPlugin[];
  /** The config's `trainer` section (validated here; throws ConfigError-style messages via parseWithPath in the CLI). */
  options?: TrainerOptionsInput;
  /** Experiment seed, used when options.seed is unset. */
  seed?: number;
  /** Pad id for batches (default: the tokenizer's pad id, else 0). */
  padId?: number;
  /** Call init() on the head and objectives (default true). Pass false when they are initialised already. */
  initialize?: boolean;
  computeMetrics?: ComputeMetrics;
  /** Where progress goes (default process.stderr). */
  progressStream?: NodeJS.WriteStream;
}

export interface TrainData {
  train: TrainingData;
  validation?: TrainingData;
}

export interface TrainResult {
  step: number;
  epoch: number;
  stoppedEarly: boolean;
  reason: string;
  /** Training loss of every optimizer step this call ran, in order. */
  losses: number[];
  lastEval?: Record<string, number>;
  best: TrainerState['best'];
  /** Directory of the last checkpoint written, if any. */
  lastCheckpoint?: string;
  /** Directory holding the best model (config.json + model.safetensors), if an evaluation ran with outputDir set. */
  bestModelDir?: string;
}

/**
 * Every id the tokenizer can produce must have an embedding row: a smaller model fails only at the
 * first step otherwise, with a raw gather error. A larger model (HF pads vocabularies) is fine.
 */
export function checkVocabularyFits(backbone: Pick<BackbonePlugin, 'info'>, tokenizer: Pick<TokenizerPlugin, 'getVocabSize'>): void {
  const rows = backbone.info.vocabSize;
  const needed = tokenizer.getVocabSize();
  if (rows >= needed) return;
  throw new PretrainError(
    `the model has ${rows} embedding rows (model.options.vocabSize / vocab_size) but the tokenizer has ids up to ${needed - 1}: set model.options.vocabSize to at least ${needed}, or use the tokenizer the model was trained with`,
    { path: 'model.options.vocabSize' },
  );
}

/** Raised when the loss or gradients stop being finite; the last good checkpoint stays on disk. */
export class TrainingDivergedError extends PretrainError {
  constructor(message: string, readonly lastGoodCheckpoint: string | undefined) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

interface NamedParameter {
  variable: tf.Variable;
  owner: ParameterOwner;
}

interface StepOutcome {
  loss: number;
  metrics: Record<string, number>;
  tokens: number;
  examples: number;
  gradNorm: number;
}

/** What one train() call carries from step to step. */
interface Run {
  readonly source: BatchSource;
  readonly validation?: TrainingData;
  readonly state: TrainerState;
  readonly log?: MetricsLog;
  readonly progress: ProgressReporter;
  readonly schedule: ScheduleOptions;
  readonly epochs: number;
  readonly startedAt: number;
  /** Training loss of every optimizer step, in order. */
  readonly losses: number[];
  lastEval?: Record<string, number>;
  lastCheckpoint?: string;
}

/**
 * The backbone's config without what described the checkpoint it was loaded from (its class, our
 * notes and marks): this model's heads and objectives say what it is now.
 */
function ownConfig(backbone: BackbonePlugin): Record<string, unknown> {
  return Object.fromEntries(Object.entries(backbone.configJSON()).filter(([key]) => key !== 'architectures' && !key.startsWith('pretrain_')));
}

/** Fine-tuning trains a task head, pre-training weighted objectives: exactly one of the two. */
function trainingTask(setup: TrainerSetup): TrainingTask {
  const objectives = setup.objectives ?? [];
  if (!setup.head && objectives.length === 0) throw new PretrainError('Trainer needs a head (fine-tuning) or at least one objective (pre-training)');
  if (setup.head && objectives.length > 0) throw new PretrainError('Trainer takes either a head (fine-tuning) or objectives (pre-training), not both');
  return setup.head ? new HeadTask(setup.backbone, setup.head, setup.computeMetrics) : new ObjectivesTask(setup.backbone, objectives);
}

function lastGoodHint(lastGood: string | undefined): string {
  return lastGood ? `; the last good checkpoint is ${lastGood} (resume from it, e.g. with a lower learning rate)` : '; no checkpoint was written yet';
}

/**
 * One loop for pre-training (backbone + weighted objectives over documents) and fine-tuning
 * (backbone + task head over labeled examples): both are a TrainingTask. See docs/trainer.md.
 */
export class Trainer {
  readonly options: TrainerOptions;
  readonly seed: number;
  private readonly backbone: BackbonePlugin;
  private readonly task: TrainingTask;
  private readonly tokenizer?: TokenizerPlugin;
  private readonly callbacks: TrainerCallbackPlugin[];
  private readonly padId: number;
  private readonly progressStream?: NodeJS.WriteStream;
  private optimizer: AdamW;
  private rng: Rng;
  private stopRequest: string | undefined;
  private parameters: Map<string, NamedParameter> | undefined;

  constructor(setup: TrainerSetup) {
    this.options = trainerOptionsSchema.parse(setup.options ?? {});
    this.seed = this.options.seed ?? setup.seed ?? 42;
    this.backbone = setup.backbone;
    this.tokenizer = setup.tokenizer;
    this.callbacks = setup.callbacks ?? [];
    this.progressStream = setup.progressStream;
    this.padId = setup.padId ?? setup.tokenizer?.specialTokenIds().pad ?? 0;
    this.task = trainingTask(setup);
    if (setup.tokenizer) checkVocabularyFits(setup.backbone, setup.tokenizer);
    this.rng = new Rng(this.seed);
    this.optimizer = this.createOptimizer();
    if (setup.initialize !== false) this.task.init({ tokenizer: this.tokenizer, rng: new Rng(deriveSeed(this.seed, 'init')) });
  }

  /** Asks the loop to stop after the current step (it writes a checkpoint first). Safe from callbacks and signal handlers. */
  requestStop(reason = 'stop requested'): void {
    this.stopRequest = reason;
  }

  /** Backbone + head/objectives as HF-layout parts (for saveModel/loadModel). */
  modelParts(): ModelParts {
    const task = this.task;
    return {
      backbone: this.backbone,
      heads: [...task.modules],
      configJSON: () => sortConfigKeys({ ...ownConfig(this.backbone), ...task.configJSON() }),
      withoutBackbone: task.withoutBackbone(),
    };
  }

  /** All trainable parameters by checkpoint name (backbone names carry the base prefix). */
  namedParameters(): Map<string, tf.Variable> {
    return new Map([...this.parameterTable()].map(([name, p]) => [name, p.variable]));
  }

  /** Epochs of optimizer steps until a limit, a stop request or early stopping; checkpoints on the way and at the end. */
  async train(data: TrainData): Promise<TrainResult> {
    const run = this.startRun(data);
    await this.notify('onTrainBegin', { totalSteps: run.schedule.totalSteps });
    let reason: string;
    try {
      reason = await this.trainEpochs(run);
      if (!this.checkpointedThisStep(run)) await this.checkpoint(run);
    } catch (error) {
      await this.endRun(run, true, (error as Error).message);
      throw error;
    }
    const stoppedEarly = !/^completed|^reached maxSteps/.test(reason);
    await this.endRun(run, stoppedEarly, reason);
    return {
      step: run.state.step,
      epoch: run.state.epoch,
      stoppedEarly,
      reason,
      losses: run.losses,
      lastEval: run.lastEval,
      best: run.state.best,
      lastCheckpoint: run.lastCheckpoint,
      bestModelDir: this.options.outputDir && run.state.best ? path.join(this.options.outputDir, 'best') : undefined,
    };
  }

  /**
   * Mean loss (weighted by batch size) over `data` in eval mode, the objectives' metrics, perplexity
   * for a single objective, and computeMetrics(predictions) for a head. Masking objectives draw from
   * a fixed evaluation generator, so repeated evaluations see the same masks.
   */
  async evaluate(data: TrainingData): Promise<Record<string, number>> {
    const source = this.batchSource(data, this.evalBatchSize(), false);
    const rng = new Rng(deriveSeed(this.seed, 'eval'));
    let lossSum = 0;
    let count = 0;
    const metricSums: Record<string, number> = {};
    const predictions: Prediction[] = [];
    for await (const raw of source.batches(0, 0)) {
      const batch = this.task.transformBatch(raw, rng);
      const { loss, metrics, outputs } = tf.tidy(() => {
        const result = this.task.loss(batchToTensors(batch), { training: false });
        return { loss: result.loss, metrics: result.metrics, outputs: result.outputs };
      });
      lossSum += (await loss.data())[0] * batch.size;
      count += batch.size;
      for (const [name, scalar] of Object.entries(metrics)) metricSums[name] = (metricSums[name] ?? 0) + scalar.dataSync()[0] * batch.size;
      if (outputs) predictions.push(...splitPredictions(outputs, batch));
      tf.dispose([loss, ...(outputs ? [outputs] : []), ...Object.values(metrics)]);
    }
    if (count === 0) throw new PretrainError('evaluation data produced no examples');
    const means: Record<string, number> = { loss: lossSum / count };
    for (const [name, sum] of Object.entries(metricSums)) means[name] = sum / count;
    return this.task.evaluationMetrics(means, predictions, Array.isArray(data) ? data : undefined);
  }

  /** Eval-mode outputs of the head for each example, in order. */
  async predict(examples: Example[]): Promise<Prediction[]> {
    const task = this.task;
    if (!task.predict) throw new PretrainError('predict() needs a task head');
    const source = this.batchSource(examples, this.evalBatchSize(), false);
    const out: Prediction[] = [];
    for await (const batch of source.batches(0, 0)) {
      const logits = tf.tidy(() => task.predict!(batchToTensors(batch)));
      out.push(...splitPredictions(logits, batch));
      logits.dispose();
    }
    return out;
  }

  /** Loads model weights (HF layout: config.json + model.safetensors) from a checkpoint or model directory. */
  loadModel(dir: string) {
    return loadModel(dir, this.modelParts());
  }

  /** Writes the model in HF layout (config.json + model.safetensors, plus tokenizer.json when known). */
  saveModel(dir: string): void {
    saveModel(dir, this.modelParts());
    if (this.tokenizer) writeFileAtomic(path.join(dir, 'tokenizer.json'), this.tokenizer.toJSON());
  }

  dispose(): void {
    this.optimizer.dispose();
  }

  // ------------------------------------------------------------------------------------------
  // The loop: epochs → steps → (micro-batches → loss and gradients → clip → AdamW step)

  /** The batches, the state (fresh or resumed from a checkpoint) and the schedule of one train() call. */
  private startRun(data: TrainData): Run {
    const o = this.options;
    const source = this.batchSource(data.train, o.batchSize, true);
    const log = o.outputDir ? new MetricsLog(o.outputDir) : undefined;
    const state = this.freshState();
    const resumeDir = this.resumeDirectory();
    if (resumeDir) {
      this.restore(resumeDir, state);
      log?.truncateAfter(state.step);
    }
    const { epochs, schedule } = this.plan(source);
    state.schedule = { type: schedule.type, warmupSteps: schedule.warmupSteps, totalSteps: schedule.totalSteps ?? null, learningRate: o.learningRate };
    const progress = createProgress(o.progress, this.progressStream, o.logEverySteps);
    const stale = o.outputDir ? removeStaleTemporaries(o.outputDir) : [];
    if (stale.length > 0) progress.message(`removed ${stale.length} temporary folder(s) a crashed run left in ${o.outputDir}: ${stale.join(', ')}`);
    return { source, validation: data.validation, state, log, progress, schedule, epochs, startedAt: Date.now() - state.elapsedMs, losses: [], lastCheckpoint: resumeDir };
  }

  /** How many epochs, and the learning-rate schedule over the total steps (when known). */
  private plan(source: BatchSource): { epochs: number; schedule: ScheduleOptions } {
    const o = this.options;
    const batchesPerEpoch = source.batchesPerEpoch;
    const stepsPerEpoch = batchesPerEpoch === undefined ? undefined : Math.ceil(batchesPerEpoch / o.gradientAccumulationSteps);
    const epochs = o.epochs ?? (o.maxSteps !== undefined ? Number.POSITIVE_INFINITY : 1);
    const totalSteps = o.maxSteps ?? (stepsPerEpoch !== undefined && Number.isFinite(epochs) ? stepsPerEpoch * epochs : undefined);
    if (totalSteps === undefined && o.schedule !== 'constant') {
      throw new PretrainError(`trainer.schedule: "${o.schedule}" decay needs a known number of steps; with streamed documents set trainer.maxSteps (or use schedule "constant")`);
    }
    const warmupSteps = resolveWarmupSteps(o.warmupSteps, o.warmupRatio, totalSteps);
    return { epochs, schedule: { type: o.schedule, warmupSteps, totalSteps } };
  }

  /** Returns why the run ended. */
  private async trainEpochs(run: Run): Promise<string> {
    while (run.state.epoch < run.epochs) {
      const stoppedInEpoch = await this.trainEpoch(run);
      if (stoppedInEpoch) return stoppedInEpoch;
      const stoppedAtEpochEnd = await this.endEpoch(run);
      if (stoppedAtEpochEnd) return stoppedAtEpochEnd;
    }
    return 'completed all epochs';
  }

  /** The epoch's optimizer steps, from where the state left off; returns a reason when the run stops before the epoch ends. */
  private async trainEpoch(run: Run): Promise<string | undefined> {
    const { state } = run;
    const batches = run.source.batches(state.epoch, state.batchesInEpoch);
    const microBatchesPerStep = this.options.gradientAccumulationSteps;
    for (;;) {
      const stopBefore = this.stopBeforeStep(state);
      if (stopBefore) return stopBefore;
      const micro = await nextMicroBatches(batches, microBatchesPerStep);
      if (micro.length === 0) return undefined;
      await this.trainStep(run, micro);
      // Stopping or saving mid-epoch keeps the epoch open: a resumed run replays its end (eval, callbacks) exactly.
      const stopAfter = await this.stopAfterStep(run);
      if (stopAfter) return stopAfter;
      if (this.due(this.options.saveEverySteps, state.step)) await this.checkpoint(run);
      // A short step means the epoch's batches ran out.
      if (micro.length < microBatchesPerStep) return undefined;
    }
  }

  private async trainStep(run: Run, micro: Batch[]): Promise<void> {
    const { state } = run;
    const startedAt = Date.now();
    const learningRate = this.options.learningRate * lrMultiplier(state.step, run.schedule);
    const outcome = this.optimizerStep(micro, state, learningRate, run.lastCheckpoint);
    state.step += 1;
    state.batchesInEpoch += micro.length;
    state.examplesSeen += outcome.examples;
    state.tokensSeen += outcome.tokens;
    run.losses.push(outcome.loss);
    await this.reportStep(run, outcome, learningRate, startedAt);
  }

  /** Closes the epoch: callbacks, then its evaluation and checkpoint; returns a reason when the run stops here. */
  private async endEpoch(run: Run): Promise<string | undefined> {
    const o = this.options;
    const { state } = run;
    const finished = state.epoch;
    state.epoch += 1;
    state.batchesInEpoch = 0;
    await this.notify('onEpochEnd', { epoch: finished, step: state.step });
    const evaluatedAtThisStep = this.due(o.evalEverySteps, state.step);
    const stop = o.evalEachEpoch && !evaluatedAtThisStep && (await this.evaluateDuringRun(run)) ? this.earlyStoppingReason() : undefined;
    if (o.saveEachEpoch || stop) await this.checkpoint(run);
    if (stop) return stop;
    return this.reachedMaxSteps(state) ? 'reached maxSteps' : undefined;
  }

  private stopBeforeStep(state: TrainerState): string | undefined {
    if (this.reachedMaxSteps(state)) return 'reached maxSteps';
    // A request made before this call (e.g. Ctrl-C while the data loaded) stops before the first step.
    return this.stopRequest;
  }

  private async stopAfterStep(run: Run): Promise<string | undefined> {
    const budget = this.options.maxWallClockSeconds;
    if (this.due(this.options.evalEverySteps, run.state.step) && (await this.evaluateDuringRun(run))) return this.earlyStoppingReason();
    if (budget !== undefined && elapsedMs(run) >= budget * 1000) return `reached the wall-clock budget of ${budget}s`;
    return this.stopRequest;
  }

  private reachedMaxSteps(state: TrainerState): boolean {
    return this.options.maxSteps !== undefined && state.step >= this.options.maxSteps;
  }

  /** Whether an every-N-steps action is due at `step`. */
  private due(every: number | undefined, step: number): boolean {
    return every !== undefined && every > 0 && step % every === 0;
  }

  private earlyStoppingReason(): string {
    return `early stopping: ${this.options.metricForBest} did not improve for ${this.options.earlyStoppingPatience} evaluations`;
  }

  private async endRun(run: Run, stoppedEarly: boolean, reason: string): Promise<void> {
    this.stopRequest = undefined;
    run.progress.done();
    await this.notify('onTrainEnd', { step: run.state.step, stoppedEarly, reason });
  }

  private async notify<K extends keyof TrainerCallbackPlugin>(hook: K, event: Parameters<NonNullable<TrainerCallbackPlugin[K]>>[0]): Promise<void> {
    for (const callback of this.callbacks) await (callback[hook] as ((event: unknown) => void | Promise<void>) | undefined)?.call(callback, event);
  }

  // ------------------------------------------------------------------------------------------
  // One optimizer step

  /** Loss and gradients over the micro-batches, clip, AdamW step; a non-finite loss or norm is a TrainingDivergedError. */
  private optimizerStep(micro: Batch[], state: TrainerState, learningRate: number, lastGood: string | undefined): StepOutcome {
    const trainable = this.trainableParameters(state);
    if (trainable.size === 0) throw new PretrainError(`no trainable parameters at step ${state.step} (strategy ${this.options.strategy.type})`);
    const { grads, ...accumulated } = this.accumulateGradients(micro, state, trainable);
    const where = `step ${state.step + 1} (epoch ${state.epoch})`;
    if (!Number.isFinite(accumulated.loss)) {
      tf.dispose([...grads.values()]);
      throw new TrainingDivergedError(`training loss became ${accumulated.loss} at ${where}${lastGoodHint(lastGood)}`, lastGood);
    }
    const clipped = this.clip(grads);
    if (!Number.isFinite(clipped.norm)) {
      tf.dispose([...clipped.grads.values()]);
      throw new TrainingDivergedError(`gradient norm became ${clipped.norm} at ${where} (loss ${accumulated.loss})${lastGoodHint(lastGood)}`, lastGood);
    }
    this.applyGradients(trainable, clipped.grads, learningRate);
    return { ...accumulated, gradNorm: clipped.norm };
  }

  /** Sums the micro-batches' gradients of loss / micro.length (by checkpoint name); loss and metrics are their means. */
  private accumulateGradients(micro: Batch[], state: TrainerState, trainable: Map<string, tf.Variable>): Omit<StepOutcome, 'gradNorm'> & { grads: Map<string, tf.Tensor> } {
    const checkpointName = new Map([...trainable].map(([name, v]) => [v.name, name]));
    let grads: Map<string, tf.Tensor> | undefined;
    let loss = 0;
    const metrics: Record<string, number> = {};
    let tokens = 0;
    let examples = 0;
    micro.forEach((raw, index) => {
      const batch = this.task.transformBatch(raw, this.rng);
      tokens += countTokens(batch);
      examples += batch.size;
      const dropoutSeed = deriveSeed(this.seed, 'dropout', state.step * 1024 + index);
      const one = this.lossAndGradients(batch, dropoutSeed, micro.length, trainable);
      loss += one.loss;
      for (const [name, value] of Object.entries(one.metrics)) metrics[name] = (metrics[name] ?? 0) + value / micro.length;
      const named = new Map<string, tf.Tensor>();
      for (const [variableName, grad] of Object.entries(one.grads)) named.set(checkpointName.get(variableName)!, grad);
      grads = grads ? addInto(grads, named) : named;
    });
    return { loss, metrics, tokens, examples, grads: grads! };
  }

  /** One micro-batch's loss / microBatches and its gradients (by variable name); loss and metrics come back as host numbers. */
  private lossAndGradients(batch: Batch, dropoutSeed: number, microBatches: number, trainable: Map<string, tf.Variable>): { loss: number; metrics: Record<string, number>; grads: tf.NamedTensorMap } {
    const kept: Record<string, tf.Scalar> = {};
    const { value, grads } = tf.tidy(() => {
      const tensors = batchToTensors(batch);
      return tf.variableGrads(() => {
        const { loss, metrics } = this.task.loss(tensors, { training: true, dropoutSeed });
        // The metrics outlive the tape's scope: they are read on the host below.
        for (const [name, scalar] of Object.entries(metrics)) kept[name] = tf.keep(scalar);
        return tf.div(loss, tf.scalar(microBatches)) as tf.Scalar;
      }, [...trainable.values()]);
    });
    const loss = value.dataSync()[0];
    const metrics: Record<string, number> = {};
    for (const [name, scalar] of Object.entries(kept)) metrics[name] = scalar.dataSync()[0];
    tf.dispose([value, ...Object.values(kept)]);
    return { loss, metrics, grads };
  }

  /** Clips to trainer.maxGradNorm (when set); the norm is the one before clipping. */
  private clip(grads: Map<string, tf.Tensor>): { grads: Map<string, tf.Tensor>; norm: number } {
    const maxNorm = this.options.maxGradNorm;
    return maxNorm === null ? { grads, norm: globalNorm(grads) } : clipByGlobalNorm(grads, maxNorm);
  }

  /** The AdamW update (layer-wise scaled when configured); disposes the gradients. */
  private applyGradients(trainable: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, learningRate: number): void {
    const table = this.parameterTable();
    const decay = this.options.layerwiseLrDecay;
    this.optimizer.step(trainable, grads, learningRate, decay === undefined ? undefined : (name) => layerwiseLrScale(decay, this.backbone, table.get(name)!.owner));
    tf.dispose([...grads.values()]);
  }

  // ------------------------------------------------------------------------------------------
  // Reports, evaluation and checkpoints during a run

  private async reportStep(run: Run, outcome: StepOutcome, learningRate: number, stepStartedAt: number): Promise<void> {
    const o = this.options;
    const { state, schedule } = run;
    const tokensPerSecond = outcome.tokens / Math.max(1e-3, (Date.now() - stepStartedAt) / 1000);
    const event: StepEvent = { step: state.step, epoch: state.epoch, loss: outcome.loss, metrics: outcome.metrics, learningRate, tokensPerSecond, elapsedMs: elapsedMs(run) };
    run.progress.update({ ...event, totalSteps: schedule.totalSteps, budgetMs: o.maxWallClockSeconds !== undefined ? o.maxWallClockSeconds * 1000 : undefined });
    if (state.step % o.logEverySteps === 0 || state.step === schedule.totalSteps) run.log?.append({ type: 'train', ...event, gradNorm: outcome.gradNorm, ...event.metrics, metrics: undefined });
    await this.notify('onStep', event);
  }

  /** Evaluates on the validation data (if any) and keeps the best model; true when early stopping's patience ran out. */
  private async evaluateDuringRun(run: Run): Promise<boolean> {
    if (!run.validation) return false;
    const { outputDir, earlyStoppingPatience } = this.options;
    const { state } = run;
    const metrics = await this.evaluate(run.validation);
    run.lastEval = metrics;
    const isBest = this.updateBest(state, metrics);
    if (isBest && outputDir) this.guardFinite(() => this.saveBestModel(outputDir), state, run.lastCheckpoint);
    run.log?.append({ type: 'eval', step: state.step, epoch: state.epoch, ...metrics, isBest });
    run.progress.message(`eval step ${state.step}: ${Object.entries(metrics).map(([k, v]) => `${k} ${formatMetric(v)}`).join(' ')}${isBest ? ' (best)' : ''}`);
    await this.notify('onEvaluate', { step: state.step, metrics, isBest });
    return earlyStoppingPatience !== undefined && state.evalsWithoutImprovement >= earlyStoppingPatience;
  }

  /** Writes checkpoint-<step> (when outputDir is set) and prunes the old ones. */
  private async checkpoint(run: Run): Promise<void> {
    const { outputDir, keepCheckpoints } = this.options;
    if (!outputDir) return;
    const { state } = run;
    state.elapsedMs = elapsedMs(run);
    state.streamState = run.source.streamState();
    const dir = this.guardFinite(() => this.writeCheckpoint(outputDir, state), state, run.lastCheckpoint);
    run.lastCheckpoint = dir;
    pruneCheckpoints(outputDir, keepCheckpoints);
    run.progress.message(`checkpoint saved: ${dir}`);
    await this.notify('onCheckpoint', { step: state.step, dir });
  }

  private checkpointedThisStep(run: Run): boolean {
    const last = run.lastCheckpoint;
    return last !== undefined && path.basename(last) === `checkpoint-${run.state.step}` && fs.existsSync(last);
  }

  // ------------------------------------------------------------------------------------------

  private evalBatchSize(): number {
    return this.options.evalBatchSize ?? this.options.batchSize;
  }

  private batchSource(data: TrainingData, batchSize: number, shuffle: boolean): BatchSource {
    return new BatchSource(data, {
      seed: this.seed,
      batchSize,
      padId: this.padId,
      padToMultipleOf: this.options.padToMultipleOf,
      shuffle,
      builder: isDocumentSource(data) ? this.task.documentBuilder() : undefined,
      tokenizer: this.tokenizer,
      maxLength: this.options.maxLength,
    });
  }

  private parameterTable(): Map<string, NamedParameter> {
    if (this.parameters) return this.parameters;
    const table = new Map<string, NamedParameter>();
    const seen = new Set<tf.Variable>();
    const prefix = this.backbone.info.basePrefix;
    for (const [name, variable] of this.backbone.variables()) {
      table.set(`${prefix}.${name}`, { variable, owner: { backboneName: name } });
      seen.add(variable);
    }
    for (const module of this.task.modules) {
      for (const [name, variable] of module.variables()) {
        // Tied weights (an MLM decoder sharing the word embeddings) train once, under the backbone's name.
        if (seen.has(variable)) continue;
        if (table.has(name)) throw new PretrainError(`two modules both define a parameter named "${name}"`);
        table.set(name, { variable, owner: {} });
        seen.add(variable);
      }
    }
    this.parameters = table;
    return table;
  }

  private trainableParameters(state: TrainerState): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, p] of this.parameterTable()) {
      if (isTrainable(this.options.strategy, this.backbone, p.owner, { epoch: state.epoch, step: state.step })) out.set(name, p.variable);
    }
    return out;
  }

  private createOptimizer(): AdamW {
    const patterns = this.options.noDecay?.map((p) => new RegExp(p));
    return new AdamW({
      beta1: this.options.adamBeta1,
      beta2: this.options.adamBeta2,
      eps: this.options.adamEpsilon,
      weightDecay: this.options.weightDecay,
      decays: patterns ? (name) => !patterns.some((r) => r.test(name)) : defaultDecays,
    });
  }

  private freshState(): TrainerState {
    this.rng = new Rng(this.seed);
    return {
      version: 1,
      step: 0,
      epoch: 0,
      batchesInEpoch: 0,
      examplesSeen: 0,
      tokensSeen: 0,
      elapsedMs: 0,
      rng: this.rng.getState(),
      optimizerSteps: {},
      schedule: { type: this.options.schedule, warmupSteps: 0, totalSteps: null, learningRate: this.options.learningRate },
      best: null,
      evalsWithoutImprovement: 0,
      seed: this.seed,
    };
  }

  private resumeDirectory(): string | undefined {
    const { resume, outputDir } = this.options;
    if (resume === false) return undefined;
    if (typeof resume === 'string') {
      if (!fs.existsSync(resume)) throw new PretrainError(`trainer.resume: checkpoint directory ${resume} does not exist`, { path: 'trainer.resume' });
      return resume;
    }
    if (!outputDir) throw new PretrainError('trainer.resume: true needs trainer.outputDir (where the checkpoints are)', { path: 'trainer.resume' });
    return latestCheckpoint(outputDir);
  }

  private restore(dir: string, state: TrainerState): void {
    const saved = readTrainerState(dir);
    if (saved.seed !== this.seed) throw new PretrainError(`${dir}: checkpoint was trained with seed ${saved.seed}, this run uses ${this.seed}; exact resume needs the same seed`);
    const report = this.loadModel(dir);
    if (report.missing.length) throw new PretrainError(`${dir}/model.safetensors: missing tensors ${report.missing.slice(0, 5).join(', ')}${report.missing.length > 5 ? ', …' : ''}`);
    const tensors = readOptimizerTensors(dir);
    try {
      this.optimizer.setState({ steps: saved.optimizerSteps, tensors }, this.namedParameters());
    } finally {
      tf.dispose([...tensors.values()]);
    }
    this.rng.setState(saved.rng);
    Object.assign(state, saved);
  }

  private writeCheckpoint(outputDir: string, state: TrainerState): string {
    const optimizerState = this.optimizer.getState();
    state.optimizerSteps = optimizerState.steps;
    state.rng = this.rng.getState();
    try {
      return saveCheckpoint(outputDir, {
        parts: this.modelParts(),
        optimizerTensors: optimizerState.tensors,
        state,
        extraFiles: this.tokenizer ? { 'tokenizer.json': this.tokenizer.toJSON() } : undefined,
      });
    } finally {
      tf.dispose([...optimizerState.tensors.values()]);
    }
  }

  /** Runs a save; non-finite weights become a TrainingDivergedError that names the last good checkpoint. */
  private guardFinite<T>(save: () => T, state: TrainerState, lastGood: string | undefined): T {
    try {
      return save();
    } catch (error) {
      if (!(error instanceof NonFiniteTensorError)) throw error;
      throw new TrainingDivergedError(`parameters became non-finite by step ${state.step} (epoch ${state.epoch}): ${error.tensorName} holds ${error.value}, so step ${state.step} was not saved${lastGoodHint(lastGood)}`, lastGood);
    }
  }

  /** best/ holds the best model so far, replaced atomically (temp dir + rename). */
  private saveBestModel(outputDir: string): void {
    const finalDir = path.join(outputDir, 'best');
    const temp = makeTempDir(outputDir, 'best');
    try {
      this.saveModel(temp);
      const old = `${finalDir}.old-${process.pid}`;
      if (fs.existsSync(finalDir)) fs.renameSync(finalDir, old);
      fs.renameSync(temp, finalDir);
      fs.rmSync(old, { recursive: true, force: true });
    } catch (error) {
      fs.rmSync(temp, { recursive: true, force: true });
      throw error;
    }
  }

  private updateBest(state: TrainerState, metrics: Record<string, number>): boolean {
    const name = this.options.metricForBest;
    const value = metrics[name];
    if (value === undefined) throw new PretrainError(`trainer.metricForBest: evaluation has no metric "${name}" (it reported: ${Object.keys(metrics).join(', ')})`, { path: 'trainer.metricForBest' });
    const greater = greaterIsBetter(this.options);
    const threshold = this.options.earlyStoppingThreshold;
    const improved = state.best === null || (greater ? value > state.best.value + threshold : value < state.best.value - threshold);
    if (improved) {
      state.best = { metric: name, value, step: state.step };
      state.evalsWithoutImprovement = 0;
    } else {
      state.evalsWithoutImprovement += 1;
    }
    return improved;
  }

}

function addInto(into: Map<string, tf.Tensor>, more: Map<string, tf.Tensor>): Map<string, tf.Tensor> {
  for (const [name, grad] of more) {
    const previous = into.get(name);
    if (previous) {
      into.set(name, tf.add(previous, grad));
      previous.dispose();
      grad.dispose();
    } else {
      into.set(name, grad);
    }
  }
  return into;
}

/** Up to `count` batches; fewer only when the epoch's batches ran out. */
async function nextMicroBatches(batches: AsyncIterator<Batch>, count: number): Promise<Batch[]> {
  const micro: Batch[] = [];
  while (micro.length < count) {
    const next = await batches.next();
    if (next.done) break;
    micro.push(next.value);
  }
  return micro;
}

/** Training time of the run, including the time before a resume. */
function elapsedMs(run: Run): number {
  return Date.now() - run.startedAt;
}

function countTokens(batch: Batch): number {
  let n = 0;
  for (const m of batch.attentionMask) n += m;
  return n;
}

/** Per-example predictions; per-token outputs are cut to the example's real length. */
function splitPredictions(logits: tf.Tensor, batch: Batch): Prediction[] {
  const values = logits.dataSync() as Float32Array;
  const [size, ...rest] = logits.shape;
  const rowSize = rest.reduce((a, b) => a * b, 1);
  const out: Prediction[] = [];
  for (let i = 0; i < size; i++) {
    const row = values.slice(i * rowSize, (i + 1) * rowSize);
    if (rest.length >= 2 && rest[0] === batch.seqLen) {
      let length = 0;
      for (let t = 0; t < batch.seqLen; t++) length += batch.attentionMask[i * batch.seqLen + t];
      const perToken = rowSize / batch.seqLen;
      out.push({ values: row.slice(0, length * perToken), shape: [length, ...rest.slice(1)] });
    } else {
      out.push({ values: row, shape: rest });
    }
  }
  return out;
}

function formatMetric(value: number): string {
  return Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(3) : value.toFixed(4);
}

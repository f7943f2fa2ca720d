import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import {
  batchToTensors,
  objectivesArchitecture,
  PretrainError,
  writeFileAtomic,
  Rng,
  sortConfigKeys,
  type BackbonePlugin,
  type Batch,
  type BatchTensors,
  type Example,
  type ObjectivePlugin,
  type ParameterModule,
  type TaskHeadPlugin,
  type TokenizerPlugin,
  type TrainerCallbackPlugin,
} from '@pretrain/core';
import { AdamW, defaultDecays } from './adamw';
import { NonFiniteTensorError, makeTempDir, removeStaleTemporaries, latestCheckpoint, loadModel, pruneCheckpoints, readOptimizerTensors, readTrainerState, saveCheckpoint, saveModel, type ModelParts, type TrainerState } from './checkpoint';
import { clipByGlobalNorm, globalNorm } from './clip';
import { BatchSource, deriveSeed, isDocumentSource, type TrainingData } from './data';
import { MetricsLog } from './metrics-log';
import { greaterIsBetter, trainerOptionsSchema, type TrainerOptions, type TrainerOptionsInput } from './options';
import { createProgress } from './progress';
import { lrMultiplier, resolveWarmupSteps } from './schedule';
import { isTrainable, layerwiseLrScale, type ParameterOwner } from './strategies';

/** One example's model output in eval mode, trimmed to the example's length for per-token outputs. */
export interface Prediction {
  values: Float32Array;
  /** e.g. [numLabels], [tokens, numLabels], [tokens, 2] (QA start/end). */
  shape: number[];
}

/** Task metrics from predictions (the CLI plugs in @pretrain/heads metrics here). */
export type ComputeMetrics = (predictions: Prediction[], examples: Example[]) => Record<string, number>;

export interface WeightedObjective {
  objective: ObjectivePlugin;
  weight?: number;
}

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

/**
 * One loop for pre-training (backbone + weighted objectives over documents) and fine-tuning
 * (backbone + task head over labeled examples). See docs/trainer.md.
 */
/**
 * The backbone's config without what described the checkpoint it was loaded from (its class, our
 * notes and marks): this model's heads and objectives say what it is now.
 */
function ownConfig(backbone: BackbonePlugin): Record<string, unknown> {
  return Object.fromEntries(Object.entries(backbone.configJSON()).filter(([key]) => key !== 'architectures' && !key.startsWith('pretrain_')));
}

export class Trainer {
  readonly options: TrainerOptions;
  readonly seed: number;
  private readonly backbone: BackbonePlugin;
  private readonly objectives: { objective: ObjectivePlugin; weight: number }[];
  private readonly head?: TaskHeadPlugin;
  private readonly tokenizer?: TokenizerPlugin;
  private readonly callbacks: TrainerCallbackPlugin[];
  private readonly computeMetrics?: ComputeMetrics;
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
    this.objectives = (setup.objectives ?? []).map((o) => ({ objective: o.objective, weight: o.weight ?? 1 }));
    this.head = setup.head;
    this.tokenizer = setup.tokenizer;
    this.callbacks = setup.callbacks ?? [];
    this.computeMetrics = setup.computeMetrics;
    this.progressStream = setup.progressStream;
    this.padId = setup.padId ?? setup.tokenizer?.specialTokenIds().pad ?? 0;
    if (!this.head && this.objectives.length === 0) throw new PretrainError('Trainer needs a head (fine-tuning) or at least one objective (pre-training)');
    if (this.head && this.objectives.length > 0) throw new PretrainError('Trainer takes either a head (fine-tuning) or objectives (pre-training), not both');
    if (setup.tokenizer) checkVocabularyFits(setup.backbone, setup.tokenizer);
    this.rng = new Rng(this.seed);
    this.optimizer = this.createOptimizer();
    if (setup.initialize !== false) this.initializeModules();
  }

  /** Asks the loop to stop after the current step (it writes a checkpoint first). Safe from callbacks and signal handlers. */
  requestStop(reason = 'stop requested'): void {
    this.stopRequest = reason;
  }

  /** Backbone + head/objectives as HF-layout parts (for saveModel/loadModel). */
  modelParts(): ModelParts {
    const heads: ParameterModule[] = this.head ? [this.head] : this.objectives.map((o) => o.objective);
    // A task head names its class in its configJSON; pre-training objectives declare theirs (hfArchitecture).
    const resolved = this.head ? undefined : objectivesArchitecture(this.objectives.map((o) => o.objective), this.backbone.info);
    const architecture = resolved ? { architectures: [resolved.architecture], ...(resolved.note ? { pretrain_note: resolved.note } : {}) } : {};
    return {
      backbone: this.backbone,
      heads,
      // Objectives may add config keys too (optional, like model-bert's save helper accepts).
      configJSON: () => sortConfigKeys(Object.assign({}, ownConfig(this.backbone), architecture, ...heads.map((h) => (h as { configJSON?: () => Record<string, unknown> }).configJSON?.() ?? {}))),
      withoutBackbone: resolved?.withoutBackbone,
    };
  }

  /** All trainable parameters by checkpoint name (backbone names carry the base prefix). */
  namedParameters(): Map<string, tf.Variable> {
    return new Map([...this.parameterTable()].map(([name, p]) => [name, p.variable]));
  }

  async train(data: TrainData): Promise<TrainResult> {
    const o = this.options;
    const source = this.batchSource(data.train, o.batchSize, true);
    const log = o.outputDir ? new MetricsLog(o.outputDir) : undefined;
    const state = this.freshState();
    const resumeDir = this.resumeDirectory();
    if (resumeDir) {
      this.restore(resumeDir, state);
      log?.truncateAfter(state.step);
    }
    const batchesPerEpoch = source.batchesPerEpoch;
    const stepsPerEpoch = batchesPerEpoch === undefined ? undefined : Math.ceil(batchesPerEpoch / o.gradientAccumulationSteps);
    const epochs = o.epochs ?? (o.maxSteps !== undefined ? Number.POSITIVE_INFINITY : 1);
    const totalSteps = o.maxSteps ?? (stepsPerEpoch !== undefined && Number.isFinite(epochs) ? stepsPerEpoch * epochs : undefined);
    if (totalSteps === undefined && o.schedule !== 'constant') {
      throw new PretrainError(`trainer.schedule: "${o.schedule}" decay needs a known number of steps; with streamed documents set trainer.maxSteps (or use schedule "constant")`);
    }
    const warmupSteps = resolveWarmupSteps(o.warmupSteps, o.warmupRatio, totalSteps);
    state.schedule = { type: o.schedule, warmupSteps, totalSteps: totalSteps ?? null, learningRate: o.learningRate };
    const progress = createProgress(o.progress, this.progressStream, o.logEverySteps);
    const stale = o.outputDir ? removeStaleTemporaries(o.outputDir) : [];
    if (stale.length > 0) progress.message(`removed ${stale.length} temporary folder(s) a crashed run left in ${o.outputDir}: ${stale.join(', ')}`);
    const losses: number[] = [];
    let lastEval: Record<string, number> | undefined;
    let lastCheckpoint = resumeDir;
    let stop: string | undefined;
    const startedAt = Date.now() - state.elapsedMs;
    const elapsed = () => Date.now() - startedAt;

    const checkpoint = async (): Promise<void> => {
      if (!o.outputDir) return;
      state.elapsedMs = elapsed();
      state.streamState = source.streamState();
      lastCheckpoint = this.guardFinite(() => this.saveCheckpointNow(o.outputDir!, state), state, lastCheckpoint);
      pruneCheckpoints(o.outputDir, o.keepCheckpoints);
      progress.message(`checkpoint saved: ${lastCheckpoint}`);
      for (const cb of this.callbacks) await cb.onCheckpoint?.({ step: state.step, dir: lastCheckpoint });
    };
    const evaluateNow = async (): Promise<boolean> => {
      if (!data.validation) return false;
      const metrics = await this.evaluate(data.validation);
      lastEval = metrics;
      const isBest = this.updateBest(state, metrics);
      if (isBest && o.outputDir) this.guardFinite(() => this.saveBestModel(o.outputDir!), state, lastCheckpoint);
      log?.append({ type: 'eval', step: state.step, epoch: state.epoch, ...metrics, isBest });
      progress.message(`eval step ${state.step}: ${Object.entries(metrics).map(([k, v]) => `${k} ${formatMetric(v)}`).join(' ')}${isBest ? ' (best)' : ''}`);
      for (const cb of this.callbacks) await cb.onEvaluate?.({ step: state.step, metrics, isBest });
      const patience = o.earlyStoppingPatience;
      return patience !== undefined && state.evalsWithoutImprovement >= patience;
    };

    for (const cb of this.callbacks) await cb.onTrainBegin?.({ totalSteps });
    try {
      epochLoop: while (state.epoch < epochs) {
        const iterator = source.batches(state.epoch, state.batchesInEpoch);
        let exhausted = false;
        while (!exhausted) {
          if (o.maxSteps !== undefined && state.step >= o.maxSteps) {
            stop = 'reached maxSteps';
            break epochLoop;
          }
          // A request made before this call (e.g. Ctrl-C while the data loaded) stops before the first step.
          if (this.stopRequest) {
            stop = this.stopRequest;
            break epochLoop;
          }
          const micro: Batch[] = [];
          while (micro.length < o.gradientAccumulationSteps) {
            const next = await iterator.next();
            if (next.done) {
              exhausted = true;
              break;
            }
            micro.push(next.value);
          }
          if (micro.length === 0) break;
          const stepStart = Date.now();
          const lr = o.learningRate * lrMultiplier(state.step, { type: o.schedule, warmupSteps, totalSteps });
          const outcome = this.optimizerStep(micro, state, lr, lastCheckpoint);
          state.step += 1;
          state.batchesInEpoch += micro.length;
          state.examplesSeen += outcome.examples;
          state.tokensSeen += outcome.tokens;
          losses.push(outcome.loss);
          const tokensPerSecond = outcome.tokens / Math.max(1e-3, (Date.now() - stepStart) / 1000);
          const event = { step: state.step, epoch: state.epoch, loss: outcome.loss, metrics: outcome.metrics, learningRate: lr, tokensPerSecond, elapsedMs: elapsed() };
          progress.update({ ...event, totalSteps, budgetMs: o.maxWallClockSeconds !== undefined ? o.maxWallClockSeconds * 1000 : undefined });
          if (state.step % o.logEverySteps === 0 || state.step === totalSteps) log?.append({ type: 'train', ...event, gradNorm: outcome.gradNorm, ...event.metrics, metrics: undefined });
          for (const cb of this.callbacks) await cb.onStep?.(event);

          if (o.evalEverySteps && state.step % o.evalEverySteps === 0 && (await evaluateNow())) stop = `early stopping: ${o.metricForBest} did not improve for ${o.earlyStoppingPatience} evaluations`;
          if (!stop && o.maxWallClockSeconds !== undefined && elapsed() >= o.maxWallClockSeconds * 1000) stop = `reached the wall-clock budget of ${o.maxWallClockSeconds}s`;
          if (!stop && this.stopRequest) stop = this.stopRequest;
          // Stopping or saving mid-epoch keeps the epoch open: a resumed run replays its end (eval, callbacks) exactly.
          if (stop) break epochLoop;
          if (o.saveEverySteps !== undefined && state.step % o.saveEverySteps === 0) await checkpoint();
        }
        const finished = state.epoch;
        this.advanceEpoch(state);
        for (const cb of this.callbacks) await cb.onEpochEnd?.({ epoch: finished, step: state.step });
        if (o.evalEachEpoch && !(o.evalEverySteps && state.step % o.evalEverySteps === 0) && (await evaluateNow())) {
          stop = `early stopping: ${o.metricForBest} did not improve for ${o.earlyStoppingPatience} evaluations`;
        }
        if (o.saveEachEpoch || stop) await checkpoint();
        if (stop) break;
        if (o.maxSteps !== undefined && state.step >= o.maxSteps) {
          stop = 'reached maxSteps';
          break;
        }
      }
      stop ??= 'completed all epochs';
      if (o.outputDir && !(lastCheckpoint && path.basename(lastCheckpoint) === `checkpoint-${state.step}` && fs.existsSync(lastCheckpoint))) await checkpoint();
    } catch (error) {
      this.stopRequest = undefined;
      progress.done();
      const reason = (error as Error).message;
      for (const cb of this.callbacks) await cb.onTrainEnd?.({ step: state.step, stoppedEarly: true, reason });
      throw error;
    }
    this.stopRequest = undefined;
    progress.done();
    const stoppedEarly = !/^completed|^reached maxSteps/.test(stop);
    for (const cb of this.callbacks) await cb.onTrainEnd?.({ step: state.step, stoppedEarly, reason: stop });
    return {
      step: state.step,
      epoch: state.epoch,
      stoppedEarly,
      reason: stop,
      losses,
      lastEval,
      best: state.best,
      lastCheckpoint,
      bestModelDir: o.outputDir && state.best ? path.join(o.outputDir, 'best') : undefined,
    };
  }

  /**
   * Mean loss (weighted by batch size) over `data` in eval mode, the objectives' metrics, perplexity
   * for a single objective, and computeMetrics(predictions) for a head. Masking objectives draw from
   * a fixed evaluation generator, so repeated evaluations see the same masks.
   */
  async evaluate(data: TrainingData): Promise<Record<string, number>> {
    const source = this.batchSource(data, this.options.evalBatchSize ?? this.options.batchSize, false);
    const rng = new Rng(deriveSeed(this.seed, 'eval'));
    let lossSum = 0;
    let count = 0;
    const metricSums: Record<string, number> = {};
    const predictions: Prediction[] = [];
    for await (const raw of source.batches(0, 0)) {
      const batch = this.transform(raw, rng);
      const kept: Record<string, tf.Scalar> = {};
      const { loss, logits } = tf.tidy(() => {
        const tensors = batchToTensors(batch);
        const output = this.backbone.forward(tensors, { training: false });
        if (this.head) {
          const headLogits = this.head.forward(output, { training: false, attentionMask: tensors.attentionMask });
          return { loss: this.head.loss(headLogits, tensors), logits: headLogits };
        }
        return { loss: this.objectiveLoss(output, tensors, false, kept), logits: undefined };
      });
      lossSum += (await loss.data())[0] * batch.size;
      count += batch.size;
      for (const [name, scalar] of Object.entries(kept)) metricSums[name] = (metricSums[name] ?? 0) + scalar.dataSync()[0] * batch.size;
      if (logits) predictions.push(...splitPredictions(logits, batch));
      tf.dispose([loss, ...(logits ? [logits] : []), ...Object.values(kept)]);
    }
    if (count === 0) throw new PretrainError('evaluation data produced no examples');
    const metrics: Record<string, number> = { loss: lossSum / count };
    for (const [name, sum] of Object.entries(metricSums)) metrics[name] = sum / count;
    if (!this.head && this.objectives.length === 1) metrics.perplexity = Math.exp(metrics.loss);
    if (this.head && this.computeMetrics && Array.isArray(data)) Object.assign(metrics, this.computeMetrics(predictions, data));
    return metrics;
  }

  /** Eval-mode outputs of the head for each example, in order. */
  async predict(examples: Example[]): Promise<Prediction[]> {
    if (!this.head) throw new PretrainError('predict() needs a task head');
    const source = this.batchSource(examples, this.options.evalBatchSize ?? this.options.batchSize, false);
    const out: Prediction[] = [];
    for await (const batch of source.batches(0, 0)) {
      const logits = tf.tidy(() => {
        const tensors = batchToTensors(batch);
        return this.head!.forward(this.backbone.forward(tensors, { training: false }), { training: false, attentionMask: tensors.attentionMask });
      });
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

  private optimizerStep(micro: Batch[], state: TrainerState, lr: number, lastGood: string | undefined): StepOutcome {
    const trainable = this.trainableParameters(state);
    if (trainable.size === 0) throw new PretrainError(`no trainable parameters at step ${state.step} (strategy ${this.options.strategy.type})`);
    const byVariableName = new Map([...trainable].map(([name, v]) => [v.name, name]));
    let accumulated: Map<string, tf.Tensor> | undefined;
    let loss = 0;
    const metricSums: Record<string, number> = {};
    let tokens = 0;
    let examples = 0;
    micro.forEach((raw, index) => {
      const batch = this.transform(raw, this.rng);
      tokens += countTokens(batch);
      examples += batch.size;
      const dropoutSeed = deriveSeed(this.seed, 'dropout', state.step * 1024 + index);
      const kept: Record<string, tf.Scalar> = {};
      const { value, grads } = tf.tidy(() => {
        const tensors = batchToTensors(batch);
        return tf.variableGrads(() => tf.div(this.trainingLoss(tensors, dropoutSeed, kept), tf.scalar(micro.length)) as tf.Scalar, [...trainable.values()]);
      });
      loss += value.dataSync()[0];
      for (const [name, scalar] of Object.entries(kept)) metricSums[name] = (metricSums[name] ?? 0) + scalar.dataSync()[0] / micro.length;
      tf.dispose([value, ...Object.values(kept)]);
      const named = new Map<string, tf.Tensor>();
      for (const [varName, grad] of Object.entries(grads)) named.set(byVariableName.get(varName)!, grad);
      accumulated = accumulated ? addInto(accumulated, named) : named;
    });
    const grads = accumulated!;
    const where = `step ${state.step + 1} (epoch ${state.epoch})`;
    const lastGoodText = lastGood ? `; the last good checkpoint is ${lastGood} (resume from it, e.g. with a lower learning rate)` : '; no checkpoint was written yet';
    if (!Number.isFinite(loss)) {
      tf.dispose([...grads.values()]);
      throw new TrainingDivergedError(`training loss became ${loss} at ${where}${lastGoodText}`, lastGood);
    }
    let gradNorm: number;
    let clipped = grads;
    if (this.options.maxGradNorm !== null) ({ grads: clipped, norm: gradNorm } = clipByGlobalNorm(grads, this.options.maxGradNorm));
    else gradNorm = globalNorm(grads);
    if (!Number.isFinite(gradNorm)) {
      tf.dispose([...clipped.values()]);
      throw new TrainingDivergedError(`gradient norm became ${gradNorm} at ${where} (loss ${loss})${lastGoodText}`, lastGood);
    }
    const table = this.parameterTable();
    const decay = this.options.layerwiseLrDecay;
    this.optimizer.step(trainable, clipped, lr, decay === undefined ? undefined : (name) => layerwiseLrScale(decay, this.backbone, table.get(name)!.owner));
    tf.dispose([...clipped.values()]);
    return { loss, metrics: metricSums, tokens, examples, gradNorm };
  }

  /** Weighted loss for training; objective metrics are kept (outside the tape's scope) into `kept`. */
  private trainingLoss(tensors: BatchTensors, dropoutSeed: number, kept: Record<string, tf.Scalar>): tf.Scalar {
    const output = this.backbone.forward(tensors, { training: true, dropoutSeed });
    if (this.head) return this.head.loss(this.head.forward(output, { training: true, dropoutSeed: deriveSeed(dropoutSeed, 'head'), attentionMask: tensors.attentionMask }), tensors);
    return this.objectiveLoss(output, tensors, true, kept);
  }

  private objectiveLoss(output: ReturnType<BackbonePlugin['forward']>, tensors: BatchTensors, training: boolean, kept: Record<string, tf.Scalar>): tf.Scalar {
    let total: tf.Scalar | undefined;
    for (const { objective, weight } of this.objectives) {
      const { loss, metrics } = objective.loss(output, tensors, { training });
      if (this.objectives.length > 1) kept[`${objective.name}_loss`] = tf.keep(loss);
      for (const [name, scalar] of Object.entries(metrics)) kept[`${objective.name}_${name}`] = tf.keep(scalar);
      const weighted = weight === 1 ? loss : (tf.mul(loss, tf.scalar(weight)) as tf.Scalar);
      total = total ? (tf.add(total, weighted) as tf.Scalar) : weighted;
    }
    return total!;
  }

  private transform(batch: Batch, rng: Rng): Batch {
    let out = batch;
    for (const { objective } of this.objectives) if (objective.transformBatch) out = objective.transformBatch(out, rng);
    return out;
  }

  private batchSource(data: TrainingData, batchSize: number, shuffle: boolean): BatchSource {
    const builders = this.objectives.filter((o) => o.objective.exampleBuilder);
    if (isDocumentSource(data) && builders.length !== 1) {
      throw new PretrainError(`training on documents needs exactly one objective that builds examples; got ${builders.length}${builders.length ? ` (${builders.map((b) => b.objective.name).join(', ')})` : ''}`);
    }
    return new BatchSource(data, {
      seed: this.seed,
      batchSize,
      padId: this.padId,
      padToMultipleOf: this.options.padToMultipleOf,
      shuffle,
      builder: builders[0]?.objective.exampleBuilder,
      tokenizer: this.tokenizer,
      maxLength: this.options.maxLength,
    });
  }

  private initializeModules(): void {
    const rng = new Rng(deriveSeed(this.seed, 'init'));
    if (this.head) this.head.init({ backbone: this.backbone, rng });
    for (const { objective } of this.objectives) {
      if (!this.tokenizer) throw new PretrainError(`objective "${objective.name}" needs a tokenizer (TrainerSetup.tokenizer)`);
      objective.init({ backbone: this.backbone, tokenizer: this.tokenizer, rng });
    }
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
    for (const module of this.modelParts().heads) {
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

  private saveCheckpointNow(outputDir: string, state: TrainerState): string {
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
      const lastGoodText = lastGood ? `; the last good checkpoint is ${lastGood} (resume from it, e.g. with a lower learning rate)` : '; no checkpoint was written yet';
      throw new TrainingDivergedError(`parameters became non-finite by step ${state.step} (epoch ${state.epoch}): ${error.tensorName} holds ${error.value}, so step ${state.step} was not saved${lastGoodText}`, lastGood);
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

  private advanceEpoch(state: TrainerState): void {
    state.epoch += 1;
    state.batchesInEpoch = 0;
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

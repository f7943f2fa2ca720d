import * as tf from '@tensorflow/tfjs-core';
import type { Batch, NamedVariables } from '@pretrain/core';
import { AdamW, lrMultiplier } from '@pretrain/trainer';
import type { StopSignal } from '../interrupt';
import { ProgressBar, ProgressStream } from '../progress';

/** What one optimisation step needs: the trainable variables and a loss to differentiate. */
export interface TrainableModel {
  variables(): NamedVariables;
  /** Runs inside the gradient tape; metrics are scalars to log. */
  loss(batch: Batch, step: number): { loss: tf.Scalar; metrics: Record<string, tf.Scalar> };
}

export interface LoopOptions {
  phase: string;
  maxSteps: number;
  learningRate: number;
  warmupSteps: number;
  weightDecay: number;
  clipNorm: number;
  schedule: 'linear' | 'cosine' | 'constant';
  /** Stop (cleanly) once this many milliseconds have passed. */
  timeBudgetMs?: number;
  logEvery: number;
  stop: StopSignal;
  progress?: ProgressStream;
  logMetrics?: (record: Record<string, unknown>) => void;
  /** Called every `evalEvery` steps and at the end; returned metrics are logged. */
  evaluate?: (step: number) => Promise<Record<string, number>>;
  evalEvery?: number;
}

export interface LoopResult {
  steps: number;
  losses: { step: number; loss: number }[];
  /** Mean loss over the first and last logging windows. */
  firstLoss: number;
  lastLoss: number;
  stoppedBy: 'maxSteps' | 'data' | 'time' | 'interrupt';
  elapsedMs: number;
  evaluations: { step: number; metrics: Record<string, number> }[];
}

/** Batches come from an async iterator so pre-training streams; it returns undefined when the data ends. */
export type BatchSource = () => Promise<Batch | undefined>;

/** AdamW training with warmup + decay, global-norm clipping, a progress bar and metrics.jsonl lines. */
export async function trainLoop(model: TrainableModel, nextBatch: BatchSource, options: LoopOptions): Promise<LoopResult> {
  const variables = model.variables();
  const names = new Map<string, string>();
  for (const [name, variable] of variables) names.set(variable.name, name);
  const varList = [...variables.values()];
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: options.weightDecay });
  const bar = new ProgressBar({ label: options.phase, total: options.maxSteps, stream: options.progress });
  const startedAt = Date.now();
  const losses: { step: number; loss: number }[] = [];
  const evaluations: LoopResult['evaluations'] = [];
  const windowSize = Math.max(1, Math.min(options.logEvery, Math.ceil(options.maxSteps / 10)));
  let stoppedBy: LoopResult['stoppedBy'] = 'maxSteps';
  let step = 0;
  try {
    while (step < options.maxSteps) {
      if (options.stop.stopRequested) {
        stoppedBy = 'interrupt';
        break;
      }
      if (options.timeBudgetMs !== undefined && Date.now() - startedAt > options.timeBudgetMs) {
        stoppedBy = 'time';
        break;
      }
      const batch = await nextBatch();
      if (!batch) {
        stoppedBy = 'data';
        break;
      }
      const lr = options.learningRate * lrMultiplier(step, { type: options.schedule, warmupSteps: options.warmupSteps, totalSteps: options.maxSteps });
      const { loss, metrics } = trainStep(model, batch, step, varList, names, variables, optimizer, lr, options.clipNorm);
      if (!Number.isFinite(loss)) throw new Error(`${options.phase}: the loss became ${loss} at step ${step + 1}; lower the learning rate`);
      step += 1;
      losses.push({ step, loss });
      if (step % options.logEvery === 0 || step === options.maxSteps) {
        options.logMetrics?.({ phase: options.phase, step, loss, lr, ...metrics });
      }
      if (options.evaluate && options.evalEvery && step % options.evalEvery === 0 && step < options.maxSteps) {
        const evalMetrics = await options.evaluate(step);
        evaluations.push({ step, metrics: evalMetrics });
        options.logMetrics?.({ phase: `${options.phase}/eval`, step, ...evalMetrics });
      }
      bar.update(step, `loss ${meanLoss(losses.slice(-windowSize)).toFixed(3)}`);
    }
  } finally {
    bar.done();
    optimizer.dispose();
  }
  if (options.evaluate) {
    const evalMetrics = await options.evaluate(step);
    evaluations.push({ step, metrics: evalMetrics });
    options.logMetrics?.({ phase: `${options.phase}/eval`, step, ...evalMetrics });
  }
  return {
    steps: step,
    losses,
    firstLoss: meanLoss(losses.slice(0, windowSize)),
    lastLoss: meanLoss(losses.slice(-windowSize)),
    stoppedBy,
    elapsedMs: Date.now() - startedAt,
    evaluations,
  };
}

function trainStep(
  model: TrainableModel,
  batch: Batch,
  step: number,
  varList: tf.Variable[],
  names: Map<string, string>,
  variables: NamedVariables,
  optimizer: AdamW,
  lr: number,
  clipNorm: number,
): { loss: number; metrics: Record<string, number> } {
  let kept: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const out = model.loss(batch, step);
    kept = Object.fromEntries(Object.entries(out.metrics).map(([k, v]) => [k, tf.keep(v)]));
    return out.loss;
  }, varList);
  const byName = new Map<string, tf.Tensor>();
  for (const [tfName, grad] of Object.entries(grads)) byName.set(names.get(tfName) ?? tfName, grad);
  const clipped = clipByGlobalNorm(byName, clipNorm);
  optimizer.step(variables, clipped, lr);
  const loss = value.dataSync()[0];
  const metrics = Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, v.dataSync()[0]]));
  value.dispose();
  for (const grad of Object.values(grads)) grad.dispose();
  if (clipped !== byName) for (const grad of clipped.values()) grad.dispose();
  for (const v of Object.values(kept)) v.dispose();
  return { loss, metrics };
}

/** Returns new tensors when clipping applies (caller disposes), else the same map. */
function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): Map<string, tf.Tensor> {
  if (!(maxNorm > 0)) return grads;
  const norm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
  if (!(norm > maxNorm)) return grads;
  const scale = maxNorm / (norm + 1e-6);
  const out = new Map<string, tf.Tensor>();
  for (const [name, grad] of grads) out.set(name, tf.tidy(() => tf.mul(grad, tf.scalar(scale))));
  return out;
}

export function meanLoss(points: { loss: number }[]): number {
  if (points.length === 0) return NaN;
  return points.reduce((sum, p) => sum + p.loss, 0) / points.length;
}

import * as tf from '@tensorflow/tfjs-core';
import {
  exampleBuilderIssue,
  objectivesArchitecture,
  PretrainError,
  type BackbonePlugin,
  type Batch,
  type BatchTensors,
  type Example,
  type ExampleBuilder,
  type ForwardOptions,
  type ObjectivePlugin,
  type Prediction,
  type Rng,
  type TaskHeadPlugin,
  type TaskLossOutput,
  type TrainingTask,
  type TrainingTaskContext,
} from '@pretrain/core';
import { deriveSeed } from './data';

/** Task metrics from predictions (the CLI plugs in @pretrain/heads metrics here). */
export type ComputeMetrics = (predictions: Prediction[], examples: Example[]) => Record<string, number>;

export interface WeightedObjective {
  objective: ObjectivePlugin;
  weight?: number;
}

/** Pre-training: the weighted sum of the objectives' losses over the backbone's output. */
export class ObjectivesTask implements TrainingTask {
  readonly modules: readonly ObjectivePlugin[];
  private readonly weighted: { objective: ObjectivePlugin; weight: number }[];

  constructor(
    private readonly backbone: BackbonePlugin,
    objectives: WeightedObjective[],
  ) {
    this.weighted = objectives.map((o) => ({ objective: o.objective, weight: o.weight ?? 1 }));
    this.modules = this.weighted.map((o) => o.objective);
  }

  init(context: TrainingTaskContext): void {
    for (const objective of this.modules) {
      if (!context.tokenizer) throw new PretrainError(`objective "${objective.name}" needs a tokenizer (TrainerSetup.tokenizer)`);
      objective.init({ backbone: this.backbone, tokenizer: context.tokenizer, rng: context.rng });
    }
  }

  documentBuilder(): ExampleBuilder {
    return singleExampleBuilder(this.modules);
  }

  transformBatch(batch: Batch, rng: Rng): Batch {
    let out = batch;
    for (const objective of this.modules) if (objective.transformBatch) out = objective.transformBatch(out, rng);
    return out;
  }

  /** Each objective's metrics under `<objective>_<metric>`, and its own loss as `<objective>_loss` when there are several. */
  loss(batch: BatchTensors, options: ForwardOptions): TaskLossOutput {
    const output = this.backbone.forward(batch, options);
    const metrics: Record<string, tf.Scalar> = {};
    let total: tf.Scalar | undefined;
    for (const { objective, weight } of this.weighted) {
      const own = objective.loss(output, batch, { training: options.training });
      if (this.weighted.length > 1) metrics[`${objective.name}_loss`] = own.loss;
      for (const [name, scalar] of Object.entries(own.metrics)) metrics[`${objective.name}_${name}`] = scalar;
      const weightedLoss = weight === 1 ? own.loss : (tf.mul(own.loss, tf.scalar(weight)) as tf.Scalar);
      total = total ? (tf.add(total, weightedLoss) as tf.Scalar) : weightedLoss;
    }
    return { loss: total!, metrics };
  }

  evaluationMetrics(means: Record<string, number>): Record<string, number> {
    return this.modules.length === 1 ? { ...means, perplexity: Math.exp(means.loss) } : means;
  }

  configJSON(): Record<string, unknown> {
    // Objectives may add config keys too (optional, like model-bert's save helper accepts).
    return Object.assign({}, this.architectureKeys(), ...this.modules.map((o) => (o as { configJSON?: () => Record<string, unknown> }).configJSON?.() ?? {}));
  }

  withoutBackbone(): string[] | undefined {
    return this.architecture().withoutBackbone;
  }

  // Objectives declare their HF classes (hfArchitecture); core combines them.
  private architecture() {
    return objectivesArchitecture(this.modules, this.backbone.info);
  }

  private architectureKeys(): Record<string, unknown> {
    const resolved = this.architecture();
    return { architectures: [resolved.architecture], ...(resolved.note ? { pretrain_note: resolved.note } : {}) };
  }
}

/** Fine-tuning: a task head's loss on its logits; the logits are the predictions. */
export class HeadTask implements TrainingTask {
  readonly modules: readonly TaskHeadPlugin[];

  constructor(
    private readonly backbone: BackbonePlugin,
    private readonly head: TaskHeadPlugin,
    private readonly computeMetrics?: ComputeMetrics,
  ) {
    this.modules = [head];
  }

  init(context: TrainingTaskContext): void {
    this.head.init({ backbone: this.backbone, rng: context.rng });
  }

  documentBuilder(): ExampleBuilder {
    return singleExampleBuilder([]);
  }

  transformBatch(batch: Batch): Batch {
    return batch;
  }

  loss(batch: BatchTensors, options: ForwardOptions): TaskLossOutput {
    const logits = this.logits(batch, options);
    return { loss: this.head.loss(logits, batch), metrics: {}, outputs: logits };
  }

  predict(batch: BatchTensors): tf.Tensor {
    return this.logits(batch, { training: false });
  }

  evaluationMetrics(means: Record<string, number>, predictions: Prediction[], examples: Example[] | undefined): Record<string, number> {
    return this.computeMetrics && examples ? Object.assign(means, this.computeMetrics(predictions, examples)) : means;
  }

  configJSON(): Record<string, unknown> {
    // A task head names its HF class in its own configJSON.
    return this.head.configJSON();
  }

  withoutBackbone(): undefined {
    return undefined;
  }

  private logits(batch: BatchTensors, options: ForwardOptions): tf.Tensor {
    const output = this.backbone.forward(batch, options);
    // The head's dropout draws from its own stream, derived from the step's seed.
    const headSeed = options.dropoutSeed === undefined ? {} : { dropoutSeed: deriveSeed(options.dropoutSeed, 'head') };
    return this.head.forward(output, { training: options.training, ...headSeed, attentionMask: batch.attentionMask });
  }
}

/** Documents become examples through exactly one objective's builder. */
function singleExampleBuilder(objectives: readonly ObjectivePlugin[]): ExampleBuilder {
  const builders = objectives.filter((o) => o.exampleBuilder);
  const issue = exampleBuilderIssue(objectives.map((o) => o.name), builders.map((b) => b.name));
  if (issue) throw new PretrainError(`training on documents: ${issue}`, { path: 'objectives' });
  return builders[0].exampleBuilder!;
}

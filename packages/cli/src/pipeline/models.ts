import * as tf from '@tensorflow/tfjs-core';
import {
  BackbonePlugin,
  Batch,
  NamedVariables,
  ObjectivePlugin,
  ParameterModule,
  TaskHeadPlugin,
  batchToTensors,
  disposeBatchTensors,
} from '@pretrain/core';
import type { TrainableModel } from './loop';

/** Backbone names carry the HF base prefix (`bert.`) so they never collide with head names. */
export function prefixedVariables(backbone: BackbonePlugin, modules: ParameterModule[]): NamedVariables {
  const all: NamedVariables = new Map();
  for (const [name, variable] of backbone.variables()) all.set(`${backbone.info.basePrefix}.${name}`, variable);
  for (const module of modules) {
    for (const [name, variable] of module.variables()) {
      if (all.has(name)) throw new Error(`two modules both own a parameter named "${name}"`);
      all.set(name, variable);
    }
  }
  return all;
}

/** Backbone + weighted objectives (BERT: MLM + NSP; GPT: CLM). */
export class PretrainingModel implements TrainableModel {
  constructor(
    readonly backbone: BackbonePlugin,
    readonly objectives: { plugin: ObjectivePlugin; weight: number }[],
    private readonly seed: number,
  ) {}

  variables(): NamedVariables {
    return prefixedVariables(this.backbone, this.objectives.map((o) => o.plugin));
  }

  loss(batch: Batch, step: number): { loss: tf.Scalar; metrics: Record<string, tf.Scalar> } {
    return this.compute(batch, { training: true, dropoutSeed: this.seed * 1_000_003 + step });
  }

  /** Loss and metrics without dropout (validation). */
  evaluate(batch: Batch): { loss: tf.Scalar; metrics: Record<string, tf.Scalar> } {
    return this.compute(batch, { training: false });
  }

  private compute(batch: Batch, options: { training: boolean; dropoutSeed?: number }) {
    const tensors = batchToTensors(batch);
    try {
      const output = this.backbone.forward(
        { inputIds: tensors.inputIds, attentionMask: tensors.attentionMask, tokenTypeIds: tensors.tokenTypeIds },
        { training: options.training, dropoutSeed: options.dropoutSeed },
      );
      const metrics: Record<string, tf.Scalar> = {};
      let total: tf.Scalar | undefined;
      for (const { plugin, weight } of this.objectives) {
        const out = plugin.loss(output, tensors, { training: options.training });
        metrics[`${plugin.name}_loss`] = out.loss;
        for (const [key, value] of Object.entries(out.metrics)) metrics[`${plugin.name}_${key}`] = value;
        const weighted = (weight === 1 ? out.loss : tf.mul(out.loss, tf.scalar(weight))) as tf.Scalar;
        total = (total ? tf.add(total, weighted) : weighted) as tf.Scalar;
      }
      if (!total) throw new Error('no objectives configured');
      return { loss: total, metrics };
    } finally {
      disposeBatchTensors(tensors);
    }
  }
}

/** Backbone + task head (fine-tuning). */
export class FinetuningModel implements TrainableModel {
  constructor(
    readonly backbone: BackbonePlugin,
    readonly head: TaskHeadPlugin,
    private readonly seed: number,
  ) {}

  variables(): NamedVariables {
    return prefixedVariables(this.backbone, [this.head]);
  }

  loss(batch: Batch, step: number): { loss: tf.Scalar; metrics: Record<string, tf.Scalar> } {
    const tensors = batchToTensors(batch);
    try {
      const dropoutSeed = this.seed * 1_000_003 + step;
      const output = this.backbone.forward(
        { inputIds: tensors.inputIds, attentionMask: tensors.attentionMask, tokenTypeIds: tensors.tokenTypeIds },
        { training: true, dropoutSeed },
      );
      const logits = this.head.forward(output, { training: true, dropoutSeed: dropoutSeed + 1 });
      return { loss: this.head.loss(logits, tensors), metrics: {} };
    } finally {
      disposeBatchTensors(tensors);
    }
  }

  /** Logits without dropout, as a host array [size, numLabels]. */
  predict(batch: Batch): { values: Float32Array; width: number } {
    return tf.tidy(() => {
      const tensors = batchToTensors(batch);
      const output = this.backbone.forward(
        { inputIds: tensors.inputIds, attentionMask: tensors.attentionMask, tokenTypeIds: tensors.tokenTypeIds },
        { training: false },
      );
      const logits = this.head.forward(output, { training: false });
      const values = logits.dataSync() as Float32Array;
      return { values: Float32Array.from(values), width: logits.shape[logits.shape.length - 1] ?? 1 };
    });
  }
}

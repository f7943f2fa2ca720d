/**
 * Test doubles for the heads HF's BertForPreTraining / BertForSequenceClassification put on top of
 * BertModel. The real heads live in the objective and heads packages; these exist so the parity
 * tests can compute HF's loss (and its gradients) without depending on them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackboneOutput, LoadReport, NamedVariables, ParameterModule } from '@pretrain/core';
import { geluErf, layerNorm } from '@pretrain/core';
import { crossEntropy } from '@pretrain/core/testing';

/** Named variables in HF layout, loaded by exact name. */
class HfTensorsModule implements ParameterModule {
  protected readonly vars: NamedVariables = new Map();

  constructor(shapes: Record<string, number[]>) {
    for (const [name, shape] of Object.entries(shapes)) this.vars.set(name, tf.variable(tf.zeros(shape), true));
  }

  protected v(name: string): tf.Variable {
    return this.vars.get(name)!;
  }

  variables(): NamedVariables {
    return new Map(this.vars);
  }

  stateDict(): Map<string, tf.Tensor> {
    return new Map([...this.vars].map(([k, v]) => [k, tf.clone(v)]));
  }

  loadStateDict(tensors: Map<string, tf.Tensor>): LoadReport {
    const unexpected: string[] = [];
    const seen = new Set<string>();
    for (const [name, t] of tensors) {
      const v = this.vars.get(name);
      if (!v) unexpected.push(name);
      else {
        v.assign(t);
        seen.add(name);
      }
    }
    return { missing: [...this.vars.keys()].filter((k) => !seen.has(k)), unexpected };
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }
}

/** x Wᵀ + b with HF's [out, in] weight. */
function hfLinear(x: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  return tf.add(tf.matMul(x, weight as tf.Tensor2D, false, true), bias);
}

export class PretrainingHeadsDouble extends HfTensorsModule {
  /** As HF's BertForPreTraining: its class, and the decoder tied to the embeddings and to cls.predictions.bias. */
  readonly hfHead = { suffix: 'ForPreTraining', tiedNames: ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'] };

  constructor(
    private readonly hidden: number,
    private readonly vocab: number,
    private readonly eps: number,
  ) {
    super({
      'cls.predictions.transform.dense.weight': [hidden, hidden],
      'cls.predictions.transform.dense.bias': [hidden],
      'cls.predictions.transform.LayerNorm.weight': [hidden],
      'cls.predictions.transform.LayerNorm.bias': [hidden],
      'cls.predictions.bias': [vocab],
      'cls.seq_relationship.weight': [2, hidden],
      'cls.seq_relationship.bias': [2],
    });
  }

  /** MLM transform → decoder tied to the word embeddings → + bias; NSP on the pooled output. */
  logits(output: BackboneOutput, wordEmbeddings: tf.Tensor) {
    const [batch, seq] = output.sequenceOutput.shape;
    const flat = tf.reshape(output.sequenceOutput, [batch * seq, this.hidden]) as tf.Tensor2D;
    const transformed = layerNorm(
      geluErf(hfLinear(flat, this.v('cls.predictions.transform.dense.weight'), this.v('cls.predictions.transform.dense.bias'))),
      this.v('cls.predictions.transform.LayerNorm.weight') as tf.Tensor1D,
      this.v('cls.predictions.transform.LayerNorm.bias') as tf.Tensor1D,
      this.eps,
    );
    const prediction = hfLinear(transformed, wordEmbeddings, this.v('cls.predictions.bias'));
    const seqRelationship = hfLinear(output.pooledOutput!, this.v('cls.seq_relationship.weight'), this.v('cls.seq_relationship.bias'));
    return { prediction: tf.reshape(prediction, [batch, seq, this.vocab]) as tf.Tensor3D, seqRelationship };
  }

  loss(output: BackboneOutput, wordEmbeddings: tf.Tensor, labels: number[][], nextSentenceLabels: number[]) {
    const { prediction, seqRelationship } = this.logits(output, wordEmbeddings);
    const [batch, seq] = output.sequenceOutput.shape;
    const mlmLoss = crossEntropy(tf.reshape(prediction, [batch * seq, this.vocab]), labels.flat());
    const nspLoss = crossEntropy(seqRelationship, nextSentenceLabels);
    return { prediction, seqRelationship, mlmLoss, nspLoss, loss: tf.add(mlmLoss, nspLoss) as tf.Scalar };
  }
}

export class SequenceClassifierDouble extends HfTensorsModule {
  readonly hfHead = { suffix: 'ForSequenceClassification' };
  constructor(hidden: number, labels: number) {
    super({ 'classifier.weight': [labels, hidden], 'classifier.bias': [labels] });
  }

  logits(output: BackboneOutput): tf.Tensor2D {
    return hfLinear(output.pooledOutput!, this.v('classifier.weight'), this.v('classifier.bias'));
  }
}

export class QuestionAnsweringDouble extends HfTensorsModule {
  readonly hfHead = { suffix: 'ForQuestionAnswering' };
  constructor(private readonly hidden: number) {
    super({ 'qa_outputs.weight': [2, hidden], 'qa_outputs.bias': [2] });
  }

  /** Start and end logits [batch, seq] from one [hidden → 2] projection of every position. */
  logits(output: BackboneOutput): { start: tf.Tensor2D; end: tf.Tensor2D } {
    const [batch, seq] = output.sequenceOutput.shape;
    const flat = tf.reshape(output.sequenceOutput, [batch * seq, this.hidden]) as tf.Tensor2D;
    const both = tf.reshape(hfLinear(flat, this.v('qa_outputs.weight'), this.v('qa_outputs.bias')), [batch, seq, 2]);
    const pick = (i: number) => tf.reshape(tf.slice(both, [0, 0, i], [batch, seq, 1]), [batch, seq]) as tf.Tensor2D;
    return { start: pick(0), end: pick(1) };
  }
}

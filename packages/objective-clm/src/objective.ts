import * as tf from '@tensorflow/tfjs-core';
import { assertBackboneAttention, gatherRows, linearSoftmaxCrossEntropy, objectivePath, PretrainError, type BackboneInfo, type BackboneOutput, type BackbonePlugin, type Batch, type BatchTensors, type LoadReport, type LossOutput, type NamedVariables, type ObjectiveArchitecture, type ObjectiveContext, type AttentionKind, type ObjectivePlugin } from '@pretrain/core';
import { BlockBuilder } from './builder';
import { clmOptions, type ClmOptions } from './options';

const IGNORE_INDEX = -100;

/**
 * Causal language modelling (GPT): packs documents into blocks and predicts each next token. The
 * LM head is the input embedding matrix itself (HF GPT2LMHeadModel ties lm_head.weight to wte),
 * so the objective owns no parameters and saves nothing of its own.
 */
export class CausalLanguageModeling implements ObjectivePlugin {
  static readonly requiresAttention: AttentionKind = 'causal';
  static readonly buildsExamples = true;
  readonly name = 'clm';
  readonly requiresAttention = CausalLanguageModeling.requiresAttention;
  readonly exampleBuilder: BlockBuilder;
  /** HF's GPT2LMHeadModel ties lm_head.weight to the token embeddings (not stored). */
  readonly hfHead = { tiedNames: ['lm_head.weight'] };
  private backbone?: BackbonePlugin;

  constructor(readonly options: ClmOptions = clmOptions()) {
    this.exampleBuilder = new BlockBuilder(options);
  }

  init({ backbone }: ObjectiveContext): void {
    assertBackboneAttention(this, backbone);
    this.backbone = backbone;
  }

  /** Full [batch, seq, vocab] logits (HF GPT2LMHeadModel.logits). */
  logits(sequenceOutput: tf.Tensor3D): tf.Tensor3D {
    const [batch, seq, hidden] = sequenceOutput.shape;
    const flat = tf.matMul(tf.reshape(sequenceOutput, [batch * seq, hidden]), this.embeddings(), false, true);
    return tf.reshape(flat, [batch, seq, -1]);
  }

  /**
   * Flat indices of positions whose next token is predicted, and those next tokens: position t of
   * a row predicts label t + 1 (HF shifts labels inside the model the same way).
   */
  targets(batch: Batch): { positions: Int32Array; labels: Int32Array } {
    const given = batch.fields[this.options.labelField];
    const positions: number[] = [];
    const labels: number[] = [];
    for (let row = 0; row < batch.size; row++) {
      for (let col = 0; col + 1 < batch.seqLen; col++) {
        const next = row * batch.seqLen + col + 1;
        const label = given ? given[next] : batch.attentionMask[next] ? batch.inputIds[next] : IGNORE_INDEX;
        if (label === IGNORE_INDEX) continue;
        positions.push(next - 1);
        labels.push(label);
      }
    }
    return { positions: Int32Array.from(positions), labels: Int32Array.from(labels) };
  }

  loss(output: BackboneOutput, batch: BatchTensors): LossOutput {
    const { positions, labels } = this.targets(batch.host);
    // No position with a next token (e.g. one-token rows): a zero loss still connected to the model.
    if (positions.length === 0) return { loss: tf.mul(0, tf.sum(output.sequenceOutput)) as tf.Scalar, metrics: { accuracy: tf.scalar(0) } };
    const [rows, seq, hidden] = output.sequenceOutput.shape;
    // Project only the positions that have a next token to predict (not the last, not padding).
    const selected = gatherRows(tf.reshape(output.sequenceOutput, [rows * seq, hidden]), positions);
    // The tied LM head and the loss in one op: softmaxCrossEntropy(selected · wteᵀ), or, where the backend
    // has core's fused kernel (native), the same a chunk of rows at a time without the [rows × vocab] logits.
    const { loss, accuracy } = linearSoftmaxCrossEntropy(selected, this.embeddings(), labels);
    return { loss, metrics: { accuracy, perplexity: tf.exp(loss) } };
  }

  /** HF GPT2LMHeadModel: the tied LM head is this objective's whole head. */
  hfArchitecture(info: BackboneInfo): ObjectiveArchitecture {
    return info.modelType === 'gpt2' ? { alone: { architecture: 'GPT2LMHeadModel' } } : {};
  }

  private embeddings(): tf.Tensor2D {
    if (!this.backbone) throw new PretrainError('clm: used before init()', { path: objectivePath('clm') });
    return this.backbone.inputEmbeddings() as tf.Tensor2D;
  }

  variables(): NamedVariables {
    return new Map();
  }

  stateDict(): Map<string, tf.Tensor> {
    return new Map();
  }

  /** Nothing to load: HF's lm_head.weight is the tied word embedding, which the backbone loads. */
  loadStateDict(): LoadReport {
    return { missing: [], unexpected: [] };
  }

  /** The LM head is the tied input embeddings: no checkpoint tensor is this objective's own. */
  ownsTensorName(): boolean {
    return false;
  }

  dispose(): void {
    this.backbone = undefined;
  }
}

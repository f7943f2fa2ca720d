import * as tf from '@tensorflow/tfjs-core';
import { headPlugin, optionsParser, z, type BackboneOutput, type BatchTensors, type Encoding, type Example, type TaskHeadContext, type TaskHeadPlugin, type TaskKind } from '@pretrain/core';
import { architecturePrefix, LinearHead } from './linear-head';
import { crossEntropy, labelField } from './losses';

export const questionAnsweringOptionsSchema = z
  .object({
    startField: z.string().default('start_positions'),
    endField: z.string().default('end_positions'),
  })
  .strict();
export type QuestionAnsweringOptions = z.input<typeof questionAnsweringOptionsSchema>;
/** Options with every default filled in, for code that builds the head directly. */
export const questionAnsweringOptions = optionsParser(questionAnsweringOptionsSchema);

/** HF *ForQuestionAnswering: Linear(hidden, 2) named `qa_outputs` → start and end logits per token. */
export class QuestionAnsweringHead extends LinearHead implements TaskHeadPlugin {
  readonly task: TaskKind = 'question-answering';
  readonly hfHead = { suffix: 'ForQuestionAnswering' };
  private readonly options: z.output<typeof questionAnsweringOptionsSchema>;
  private modelType = 'bert';

  /** `options` as the plugin's schema parsed them (`questionAnsweringOptions({...})` for direct use). */
  constructor(options: z.output<typeof questionAnsweringOptionsSchema>) {
    // HF's QA head has no dropout.
    super('qa_outputs', 2, 0);
    this.options = options;
  }

  protected override afterInit({ backbone }: TaskHeadContext): void {
    this.modelType = backbone.info.modelType;
    this.dropoutRate = 0;
  }

  /** [batch, seq, 2]: start logits at [..., 0], end logits at [..., 1] (see splitQaLogits). */
  forward(output: BackboneOutput, options: { training: boolean; dropoutSeed?: number }): tf.Tensor3D {
    return tf.tidy(() => this.project(output.sequenceOutput, options) as tf.Tensor3D);
  }

  /**
   * (CE(start) + CE(end)) / 2. As in HF, positions outside the sequence are clamped to seq_len and
   * ignored, so a window without the answer should point at the CLS index (0), not outside.
   */
  loss(logits: tf.Tensor, batch: BatchTensors): tf.Scalar {
    const seqLen = logits.shape[1]!;
    const clampPositions = (field: Int32Array | Float32Array) => Int32Array.from(field, (p) => Math.min(Math.max(p, 0), seqLen));
    const starts = clampPositions(labelField(batch, this.options.startField, 'question-answering', 'startField'));
    const ends = clampPositions(labelField(batch, this.options.endField, 'question-answering', 'endField'));
    return tf.tidy(() => {
      const { start, end } = splitQaLogits(logits as tf.Tensor3D);
      return tf.div(tf.add(crossEntropy(start, starts, { ignoreAbove: true }), crossEntropy(end, ends, { ignoreAbove: true })), tf.scalar(2));
    });
  }

  configJSON(): Record<string, unknown> {
    return { architectures: [`${architecturePrefix(this.modelType)}ForQuestionAnswering`] };
  }
}

/** [batch, seq, 2] → start and end logits, each [batch, seq]. */
export function splitQaLogits(logits: tf.Tensor3D): { start: tf.Tensor2D; end: tf.Tensor2D } {
  return tf.tidy(() => {
    const [b, s] = logits.shape;
    const [start, end] = tf.split(logits, 2, 2);
    return { start: tf.reshape(start, [b, s]) as tf.Tensor2D, end: tf.reshape(end, [b, s]) as tf.Tensor2D };
  });
}

/** One window of a (question, context) pair, ready to batch, with what postprocessing needs. */
export interface QaFeature {
  example: Example;
  /** Context character span [start, end) per token; null outside the context (question, special, padding). */
  contextOffsets: ([number, number] | null)[];
  /** Token positions of the answer in this window; both 0 (CLS) when the answer is not fully inside. */
  startPosition: number;
  endPosition: number;
}

export interface QaAnswer {
  /** Character offset of the answer in the context (UTF-16 code units). */
  start: number;
  text: string;
}

/**
 * Windows of a tokenized (question, context) pair — `encoding` is the first window and its
 * `overflowing` the rest (the tokenizer's truncation with a stride) — labeled like HF's
 * run_qa prepare_train_features: the answer's first and last context tokens, or CLS (0) when the
 * window does not contain the whole answer. The context must be the pair's second sequence.
 */
export function qaFeatures(encoding: Encoding, answer?: QaAnswer): QaFeature[] {
  const windows = [encoding, ...encoding.overflowing];
  return windows.map((window) => {
    const contextOffsets = window.offsets.map((o, i) => (window.sequenceIds[i] === 1 ? ([o[0], o[1]] as [number, number]) : null));
    const [startPosition, endPosition] = answer ? answerPositions(contextOffsets, answer) : [0, 0];
    const example: Example = {
      inputIds: Int32Array.from(window.ids),
      tokenTypeIds: Int32Array.from(window.typeIds),
      specialTokensMask: Uint8Array.from(window.specialTokensMask),
      labels: { start_positions: startPosition, end_positions: endPosition },
    };
    return { example, contextOffsets, startPosition, endPosition };
  });
}

function answerPositions(offsets: ([number, number] | null)[], answer: QaAnswer): [number, number] {
  const startChar = answer.start;
  const endChar = answer.start + answer.text.length;
  const context = offsets.map((o, i) => (o ? i : -1)).filter((i) => i >= 0);
  if (context.length === 0) return [0, 0];
  const first = context[0];
  const last = context[context.length - 1];
  if (!(offsets[first]![0] <= startChar && offsets[last]![1] >= endChar)) return [0, 0];
  let start = first;
  for (const i of context) if (offsets[i]![0] <= startChar) start = i;
  let end = last;
  for (let k = context.length - 1; k >= 0; k--) if (offsets[context[k]]![1] >= endChar) end = context[k];
  return [start, Math.max(start, end)];
}

export interface SpanCandidate {
  text: string;
  /** start_logit + end_logit. */
  score: number;
  /** Softmax of the score over the n-best list. */
  probability: number;
  /** Character span in the context. */
  start: number;
  end: number;
}

export interface WindowLogits {
  startLogits: ArrayLike<number>;
  endLogits: ArrayLike<number>;
  contextOffsets: ([number, number] | null)[];
}

/**
 * HF run_qa postprocess_qa_predictions (SQuAD v1): over all windows of one example, pair the top
 * `nBest` start and end logits, keep spans inside the context with start ≤ end and at most
 * `maxAnswerLength` tokens, and rank by start+end logit. Returns the n-best list, best first
 * (empty when no valid span exists).
 */
export function bestSpans(windows: WindowLogits[], context: string, options: { nBest?: number; maxAnswerLength?: number } = {}): SpanCandidate[] {
  const nBest = options.nBest ?? 20;
  const maxAnswerLength = options.maxAnswerLength ?? 30;
  const candidates: Omit<SpanCandidate, 'probability'>[] = [];
  for (const w of windows) {
    const starts = topIndices(w.startLogits, nBest);
    const ends = topIndices(w.endLogits, nBest);
    for (const s of starts) {
      for (const e of ends) {
        const so = w.contextOffsets[s];
        const eo = w.contextOffsets[e];
        if (!so || !eo || e < s || e - s + 1 > maxAnswerLength) continue;
        candidates.push({ text: context.slice(so[0], eo[1]), score: w.startLogits[s] + w.endLogits[e], start: so[0], end: eo[1] });
      }
    }
  }
  candidates.sort((a, b) => b.score - a.score);
  const top = candidates.slice(0, nBest);
  if (top.length === 0) return [];
  const max = top[0].score;
  const exps = top.map((c) => Math.exp(c.score - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return top.map((c, i) => ({ ...c, probability: exps[i] / total }));
}

function topIndices(values: ArrayLike<number>, n: number): number[] {
  return Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[b] - values[a] || a - b)
    .slice(0, n);
}

export const questionAnsweringPlugin = headPlugin(QuestionAnsweringHead, {
  name: 'question-answering',
  description: 'extractive QA: linear to start/end logits (HF qa_outputs.*), mean of start and end cross-entropy',
  options: questionAnsweringOptionsSchema,
});

import * as tf from '@tensorflow/tfjs-core';
import { headPlugin, headPath, optionsParser, PretrainError, z, type BackboneOutput, type BatchTensors, type TaskHeadContext, type TaskHeadPlugin, type TaskKind, type TokenizerPlugin } from '@pretrain/core';
import { architecturePrefix, LinearHead } from './linear-head';
import { crossEntropy, labelField } from './losses';

export const tokenClassificationOptionsSchema = z
  .object({
    /** Number of tags; default: the length of `labels` (one of the two is required). */
    numLabels: z.number().int().min(2).optional(),
    /** Tag names by id (HF id2label), e.g. ["O", "B-PER", "I-PER", ...]. */
    labels: z.array(z.string()).optional(),
    dropout: z.number().min(0).max(1).optional(),
    /** Batch field holding per-token labels (-100 = ignored). */
    labelField: z.string().default('labels'),
  })
  .strict()
  .refine((o) => !o.labels || o.numLabels === undefined || o.labels.length === o.numLabels, { message: 'labels must list exactly numLabels names', path: ['labels'] });
export type TokenClassificationOptions = z.input<typeof tokenClassificationOptionsSchema>;
/** Options with every default filled in, for code that builds the head directly. */
export const tokenClassificationOptions = optionsParser(tokenClassificationOptionsSchema);

/** HF *ForTokenClassification: per-token dropout → Linear(hidden, numLabels) named `classifier`. */
export class TokenClassificationHead extends LinearHead implements TaskHeadPlugin {
  readonly task: TaskKind = 'token-classification';
  readonly hfHead = { suffix: 'ForTokenClassification' };
  readonly numLabels: number;
  private readonly options: z.output<typeof tokenClassificationOptionsSchema>;
  private modelType = 'bert';

  /** `options` as the plugin's schema parsed them (`tokenClassificationOptions({...})` for direct use). */
  constructor(parsed: z.output<typeof tokenClassificationOptionsSchema>) {
    const numLabels = parsed.numLabels ?? parsed.labels?.length;
    if (numLabels === undefined || numLabels < 2) throw new PretrainError('token-classification head: give head.options.numLabels or head.options.labels (at least 2 tags)', { path: 'head.options.numLabels' });
    super('classifier', numLabels, parsed.dropout);
    this.options = parsed;
    this.numLabels = numLabels;
  }

  protected override afterInit({ backbone }: TaskHeadContext): void {
    this.modelType = backbone.info.modelType;
  }

  /** [batch, seq, numLabels] logits. */
  forward(output: BackboneOutput, options: { training: boolean; dropoutSeed?: number }): tf.Tensor3D {
    return tf.tidy(() => this.project(output.sequenceOutput, options) as tf.Tensor3D);
  }

  /** Mean cross-entropy over tokens whose label is not -100 (HF CrossEntropyLoss semantics). */
  loss(logits: tf.Tensor, batch: BatchTensors): tf.Scalar {
    const labels = labelField(batch, this.options.labelField, 'token-classification');
    const [b, s, l] = logits.shape;
    if (labels.length !== b * s) throw new PretrainError(`token-classification head: labels "${this.options.labelField}" hold ${labels.length} values for a [${b}, ${s}] batch; they must be per-token`, { path: headPath('labelField') });
    return tf.tidy(() => crossEntropy(tf.reshape(logits, [b * s, l]) as tf.Tensor2D, Int32Array.from(labels)));
  }

  /** Tag names by id (LABEL_i where none were given). */
  labelNames(): string[] {
    return this.options.labels ?? Array.from({ length: this.numLabels }, (_, i) => `LABEL_${i}`);
  }

  configJSON(): Record<string, unknown> {
    const names = this.labelNames();
    return {
      architectures: [`${architecturePrefix(this.modelType)}ForTokenClassification`],
      id2label: Object.fromEntries(names.map((n, i) => [String(i), n])),
      label2id: Object.fromEntries(names.map((n, i) => [n, i])),
      ...(this.options.dropout !== undefined ? { classifier_dropout: this.options.dropout } : {}),
    };
  }
}

/**
 * Words encoded one by one, as HF tokenizers do with `is_split_into_words`: `[CLS] pieces… [SEP]`
 * and, per token, the index of the word it came from (null for special tokens). Words that would
 * not fit in `maxLength` (special tokens included) are left out.
 */
export function encodeSplitWords(tokenizer: TokenizerPlugin, words: readonly string[], maxLength: number): { ids: Int32Array; wordIds: (number | null)[] } {
  const { cls, sep } = tokenizer.specialTokenIds();
  if (cls === undefined || sep === undefined) throw new PretrainError('encoding split words needs a tokenizer with [CLS] and [SEP] tokens');
  const ids: number[] = [cls];
  const wordIds: (number | null)[] = [null];
  for (const [w, word] of words.entries()) {
    const pieces = tokenizer.encode(word, null, { addSpecialTokens: false }).ids;
    if (ids.length + pieces.length > maxLength - 1) break;
    for (const id of pieces) {
      ids.push(id);
      wordIds.push(w);
    }
  }
  ids.push(sep);
  wordIds.push(null);
  return { ids: Int32Array.from(ids), wordIds };
}

/**
 * Word labels → token labels: the first sub-token of each word gets the word's label, every other
 * token (later sub-tokens, special tokens, padding: wordIds null) gets -100 (HF run_ner default).
 * With `labelAllSubTokens`, later sub-tokens repeat the word's label instead.
 */
export function alignLabelsToTokens(wordIds: readonly (number | null)[], wordLabels: ArrayLike<number>, options: { labelAllSubTokens?: boolean } = {}): Int32Array {
  const out = new Int32Array(wordIds.length).fill(-100);
  let previous: number | null = null;
  wordIds.forEach((word, i) => {
    if (word === null) {
      previous = null;
      return;
    }
    if (word >= wordLabels.length) throw new PretrainError(`alignLabelsToTokens: token ${i} belongs to word ${word}, but only ${wordLabels.length} word labels were given`, { path: headPath() });
    if (word !== previous || options.labelAllSubTokens) out[i] = wordLabels[word];
    previous = word;
  });
  return out;
}

/**
 * Token predictions → one tag per word (the first sub-token's prediction), for seqeval.
 * `predictions` are label ids per token; words never seen (truncated away) get `fallback`.
 */
export function wordPredictions(wordIds: readonly (number | null)[], predictions: ArrayLike<number>, numWords: number, fallback = 0): number[] {
  const out = new Array<number>(numWords).fill(fallback);
  const seen = new Set<number>();
  wordIds.forEach((word, i) => {
    if (word === null || seen.has(word) || word >= numWords) return;
    seen.add(word);
    out[word] = predictions[i];
  });
  return out;
}

export const tokenClassificationPlugin = headPlugin(TokenClassificationHead, {
  name: 'token-classification',
  description: 'per-token dropout → linear (HF classifier.*), cross-entropy over labels ≠ -100',
  options: tokenClassificationOptionsSchema,
});

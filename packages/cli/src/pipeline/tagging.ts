import { BackbonePlugin, Example, PretrainError, TaskHeadPlugin, TokenizerPlugin } from '@pretrain/core';
import { alignLabelsToTokens, encodeSplitWords } from '@pretrain/heads';
import { Trainer, TrainResult, type TrainerOptionsInput } from '@pretrain/trainer';
import { callbacksFor, type RunEnvironment } from './train';

/** A sentence already split into words, one tag per word (CoNLL style). */
export interface TaggedSentence {
  words: string[];
  tags: string[];
}

/** One sentence as model input: the example and, per token, the word it came from (null: special token). */
export interface TaggedExample {
  example: Example;
  wordIds: (number | null)[];
  /** Words in the sentence (some may have been cut by maxLength). */
  words: number;
}

/** One sentence as model input (HF `is_split_into_words`), the first piece of each word labeled with its tag. */
export function encodeTaggedWords(tokenizer: TokenizerPlugin, words: string[], tagIds: number[] | undefined, maxLength: number): TaggedExample {
  const { ids, wordIds } = encodeSplitWords(tokenizer, words, maxLength);
  const example: Example = { inputIds: ids };
  if (tagIds) example.tokenLabels = { labels: alignLabelsToTokens(wordIds, tagIds) };
  return { example, wordIds, words: words.length };
}

export interface TaggingInputs {
  backbone: BackbonePlugin;
  /** A token-classification head with one output per entry of `labels`. */
  head: TaskHeadPlugin;
  tokenizer: TokenizerPlugin;
  train: TaggedSentence[];
  validation: TaggedSentence[];
  /** Tag names in id order. */
  labels: string[];
  options: TrainerOptionsInput;
  seed: number;
}

export interface TaggingResult {
  result: TrainResult;
  /** Word accuracy (first piece of each word) on the validation sentences. */
  validation: {
    accuracy: number;
    /** Validation words. */
    examples: number;
    /** 1 where that word's tag was predicted right, in sentence order. */
    correct: Uint8Array;
    /** The validation sentence each word belongs to (clusters for the paired interval). */
    sentence: Int32Array;
  };
}

function tagIdsOf(sentence: TaggedSentence, labels: string[]): number[] {
  return sentence.tags.map((tag) => {
    const id = labels.indexOf(tag);
    if (id < 0) throw new PretrainError(`tag "${tag}" is not among the ${labels.length} tags of this task`);
    return id;
  });
}

/** Fine-tunes backbone + token-classification head on tagged sentences and scores every validation word. */
export async function runTagging(inputs: TaggingInputs, env: RunEnvironment): Promise<TaggingResult> {
  const maxLength = inputs.options.maxLength ?? 128;
  const encode = (s: TaggedSentence) => encodeTaggedWords(inputs.tokenizer, s.words, tagIdsOf(s, inputs.labels), maxLength);
  const train = inputs.train.map((s) => encode(s).example);
  const validation = inputs.validation.map(encode);
  if (train.length === 0) throw new PretrainError('no tagged training sentences');
  const trainer = new Trainer({
    backbone: inputs.backbone,
    head: inputs.head,
    tokenizer: inputs.tokenizer,
    options: { evalEachEpoch: false, saveEachEpoch: false, ...inputs.options },
    seed: inputs.seed,
    callbacks: callbacksFor(env),
    progressStream: env.progress,
  });
  const detach = env.stop.onRequest((reason) => trainer.requestStop(`interrupted (${reason})`));
  try {
    const result = await trainer.train({ train });
    const predictions = await trainer.predict(validation.map((v) => v.example));
    const correct: number[] = [];
    const sentence: number[] = [];
    validation.forEach((v, s) => {
      const right = wordsRight(v, predictions[s].values, inputs.labels.length);
      for (const flag of right) {
        correct.push(flag);
        sentence.push(s);
      }
    });
    const flags = Uint8Array.from(correct);
    const accuracy = flags.length > 0 ? flags.reduce((sum, v) => sum + v, 0) / flags.length : NaN;
    return { result, validation: { accuracy, examples: flags.length, correct: flags, sentence: Int32Array.from(sentence) } };
  } finally {
    detach();
    trainer.dispose();
  }
}

/** 1/0 per word of the sentence: is the argmax at the word's first piece its tag? Cut-off words are 0. */
function wordsRight(tagged: TaggedExample, logits: Float32Array, numLabels: number): number[] {
  const labels = tagged.example.tokenLabels!.labels;
  const right = new Array<number>(tagged.words).fill(0);
  tagged.wordIds.forEach((word, t) => {
    if (word === null || labels[t] < 0) return;
    let best = 0;
    for (let k = 1; k < numLabels; k++) if (logits[t * numLabels + k] > logits[t * numLabels + best]) best = k;
    right[word] = best === labels[t] ? 1 : 0;
  });
  return right;
}

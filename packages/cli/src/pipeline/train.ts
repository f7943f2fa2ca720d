import {
  BackbonePlugin,
  CorpusSourcePlugin,
  Example,
  ObjectivePlugin,
  PretrainError,
  Rng,
  TaskHeadPlugin,
  TokenizerPlugin,
  TokenizedDocument,
  TrainerCallbackPlugin,
} from '@pretrain/core';
import { TokenizedCorpus } from '@pretrain/corpus';
import { accuracy, argmaxRows } from '@pretrain/heads';
import { DocumentSource, Prediction, Trainer, trainerOptionsSchema, TrainResult, type TrainerOptionsInput } from '@pretrain/trainer';
import type { StopSignal } from '../interrupt';
import { labeledExamples, tokenizedDocuments } from './batches';
import { SavedPluginRefs, saveFinalModel } from './checkpoint';
import type { LabeledSplits } from './task-data';

export interface RunEnvironment {
  stop: StopSignal;
  progress?: NodeJS.WriteStream;
  log(line: string): void;
  /** Callback plugins from the config (progress, logging, ...). */
  callbacks?: TrainerCallbackPlugin[];
}

/**
 * A training step is synchronous TF.js work and the loop between steps only awaits promises, so
 * without a macrotask turn signal handlers (Ctrl-C) would never run until training ends.
 */
const yieldToEventLoop: TrainerCallbackPlugin = {
  onStep: () => new Promise((resolve) => setImmediate(resolve)),
};

export function callbacksFor(env: RunEnvironment): TrainerCallbackPlugin[] {
  return [yieldToEventLoop, ...(env.callbacks ?? [])];
}

export interface PretrainInputs {
  backbone: BackbonePlugin;
  objectives: { plugin: ObjectivePlugin; weight: number }[];
  tokenizer: TokenizerPlugin;
  corpus: CorpusSourcePlugin;
  /** The `trainer` section (outputDir: where metrics.jsonl and resumable checkpoints go). */
  options: TrainerOptionsInput;
  seed: number;
  /** Where the final HF-layout model goes (with tokenizer.json and the plugin refs). */
  finalDir: string;
  refs: SavedPluginRefs;
  /** Held-out documents used for the before/after loss (a cap keeps evaluation quick). */
  evalDocuments?: number;
  /** Read token ids from this cache (`pretrain corpus prepare`) instead of tokenizing the corpus every epoch. */
  tokenCache?: { dir: string; validationFraction: number };
}

type DocumentsOf = (split: 'train' | 'validation', seed: number) => AsyncIterable<TokenizedDocument>;

/** Where pre-training documents come from: the token cache when given (checked against the tokenizer), else the corpus. */
function documentSource(inputs: PretrainInputs): { documentsOf: DocumentsOf; close(): void } {
  if (!inputs.tokenCache) return { documentsOf: (split, seed) => tokenizedDocuments(inputs.corpus, inputs.tokenizer, split, seed), close: () => undefined };
  const cache = TokenizedCorpus.open(inputs.tokenCache.dir, { validationFraction: inputs.tokenCache.validationFraction, tokenizerHash: inputs.tokenizer.hash(), vocabSize: inputs.tokenizer.getVocabSize() });
  return { documentsOf: (split, seed) => cache.documents({ split, seed }), close: () => cache.close() };
}

export interface PretrainResult {
  result: TrainResult;
  /** Mean loss on held-out documents before and after training (the same fixed masks both times). */
  evalBefore?: Record<string, number>;
  evalAfter?: Record<string, number>;
  finalDir: string;
  elapsedMs: number;
}

/** Pre-trains backbone + objectives on the corpus's train split, measuring held-out loss before and after. */
export async function runPretraining(inputs: PretrainInputs, env: RunEnvironment): Promise<PretrainResult> {
  const { backbone, tokenizer, seed } = inputs;
  const source = documentSource(inputs);
  const train: DocumentSource = { documents: (epoch) => source.documentsOf('train', seed + epoch) };
  const validation = await heldOutDocuments(source.documentsOf, seed, inputs.evalDocuments ?? 40, countExamples(inputs));
  if (!validation) env.log('note: the corpus has no validation split (corpus.options.validationFraction), so no held-out loss is measured');
  const trainer = new Trainer({
    backbone,
    objectives: inputs.objectives.map((o) => ({ objective: o.plugin, weight: o.weight })),
    tokenizer,
    options: inputs.options,
    seed,
    callbacks: callbacksFor(env),
    progressStream: env.progress,
  });
  const started = Date.now();
  const detach = env.stop.onRequest((reason) => trainer.requestStop(`interrupted (${reason})`));
  try {
    const evalBefore = validation ? await trainer.evaluate(validation) : undefined;
    const result = await trainer.train({ train });
    const evalAfter = validation ? await trainer.evaluate(validation) : undefined;
    const finalDir = saveFinalModel(inputs.finalDir, trainer, inputs.refs);
    return { result, evalBefore, evalAfter, finalDir, elapsedMs: Date.now() - started };
  } finally {
    detach();
    trainer.dispose();
    source.close();
  }
}

/**
 * The first `limit` validation documents, materialised once so every evaluation sees the same data; read on
 * (doubling) while they give fewer than MIN_HELD_OUT_EXAMPLES examples, up to MAX_HELD_OUT_DOCUMENTS. An
 * objective may use only some documents (stated-score: reviews that state a score).
 */
async function heldOutDocuments(documentsOf: DocumentsOf, seed: number, limit: number, examplesIn: (documents: TokenizedDocument[]) => Promise<number>): Promise<DocumentSource | undefined> {
  const documents: TokenizedDocument[] = [];
  const iterator = documentsOf('validation', seed)[Symbol.asyncIterator]();
  let exhausted = false;
  for (let target = limit; ; target = Math.min(2 * target, MAX_HELD_OUT_DOCUMENTS)) {
    while (!exhausted && documents.length < target) {
      const next = await iterator.next();
      if (next.done) exhausted = true;
      else documents.push(next.value);
    }
    if (exhausted || documents.length >= MAX_HELD_OUT_DOCUMENTS || (await examplesIn(documents)) >= MIN_HELD_OUT_EXAMPLES) break;
  }
  if (!exhausted) await iterator.return?.();
  if (documents.length === 0) return undefined;
  return {
    documents: async function* () {
      yield* documents;
    },
  };
}

const MIN_HELD_OUT_EXAMPLES = 32;
const MAX_HELD_OUT_DOCUMENTS = 20_000;

/** How many examples (up to MIN_HELD_OUT_EXAMPLES) the example-building objective makes of these documents. */
function countExamples(inputs: PretrainInputs): (documents: TokenizedDocument[]) => Promise<number> {
  const builder = inputs.objectives.map((o) => o.plugin.exampleBuilder).find((b) => b !== undefined);
  if (!builder) return async () => MIN_HELD_OUT_EXAMPLES;
  const maxLength = inputs.options.maxLength ?? trainerOptionsSchema.parse({}).maxLength;
  return async (documents) => {
    const stream = (async function* () {
      yield* documents;
    })();
    let count = 0;
    for await (const _example of builder.build(stream, { tokenizer: inputs.tokenizer, maxLength, rng: new Rng(inputs.seed) })) {
      if (++count >= MIN_HELD_OUT_EXAMPLES) break;
    }
    return count;
  };
}

export interface FinetuneInputs {
  backbone: BackbonePlugin;
  head: TaskHeadPlugin;
  tokenizer: TokenizerPlugin;
  splits: LabeledSplits;
  options: TrainerOptionsInput;
  seed: number;
  /** Where the final model goes; omit to write nothing (demo sweeps). */
  finalDir?: string;
  refs?: SavedPluginRefs;
  /** Also return which validation examples were classified right (paired comparisons of two runs). */
  keepValidationCorrect?: boolean;
}

export interface FinetuneResult {
  result: TrainResult;
  /** `correct[i]` is 1 where validation example i was classified right (with keepValidationCorrect). */
  validation: { accuracy: number; loss: number; examples: number; correct?: Uint8Array };
  finalDir?: string;
}

/** Accuracy from eval-mode logits: the metric the trainer reports for classification heads. */
export function classificationMetrics(predictions: Prediction[], examples: Example[]): Record<string, number> {
  const width = predictions[0]?.values.length ?? 1;
  const flat = new Float32Array(predictions.length * width);
  predictions.forEach((p, i) => flat.set(p.values, i * width));
  const references = Int32Array.from(examples.map((e) => e.labels?.labels ?? -1));
  return { accuracy: accuracy(argmaxRows(flat, width), references) };
}

export async function runFinetuning(inputs: FinetuneInputs, env: RunEnvironment): Promise<FinetuneResult> {
  const { backbone, head, tokenizer, splits, seed } = inputs;
  const maxLength = inputs.options.maxLength ?? 128;
  const train = labeledExamples(tokenizer, splits.train, splits.labels, maxLength);
  const validation = labeledExamples(tokenizer, splits.validation, splits.labels, maxLength);
  if (train.length === 0) throw new PretrainError('no training examples (data.train is empty after data.limit / the validation hold-out)');
  // The final evaluation's predictions also give which validation examples were right (one pass, not two).
  let validationCorrect = new Uint8Array(0);
  const computeMetrics = (predictions: Prediction[], examples: Example[]) => {
    if (inputs.keepValidationCorrect && examples === validation) validationCorrect = Uint8Array.from(examples, (e, i) => (argmaxRows(predictions[i].values, predictions[i].values.length)[0] === e.labels?.labels ? 1 : 0));
    return classificationMetrics(predictions, examples);
  };
  const trainer = new Trainer({ backbone, head, tokenizer, options: { evalEachEpoch: false, saveEachEpoch: false, ...inputs.options }, seed, computeMetrics, callbacks: callbacksFor(env), progressStream: env.progress });
  const detach = env.stop.onRequest((reason) => trainer.requestStop(`interrupted (${reason})`));
  try {
    const result = await trainer.train({ train });
    const metrics = validation.length > 0 ? await trainer.evaluate(validation) : { accuracy: NaN, loss: NaN };
    const correct = inputs.keepValidationCorrect ? validationCorrect : undefined;
    const finalDir = inputs.finalDir ? saveFinalModel(inputs.finalDir, trainer, { ...inputs.refs!, labels: splits.labels }) : undefined;
    return { result, validation: { accuracy: metrics.accuracy, loss: metrics.loss, examples: validation.length, correct }, finalDir };
  } finally {
    detach();
    trainer.dispose();
  }
}

/** Label ids and probabilities for examples, with a restored trainer (eval mode). */
export async function predictLabels(trainer: Trainer, examples: Example[]): Promise<{ predictions: Int32Array; probabilities: Float32Array[] }> {
  const outputs = await trainer.predict(examples);
  const probabilities = outputs.map((p) => softmax(p.values));
  const predictions = Int32Array.from(outputs.map((p) => argmaxRows(p.values, p.values.length)[0]));
  return { predictions, probabilities };
}

function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return Float32Array.from(exps, (v) => v / sum);
}

/** Did the run stop because the user pressed Ctrl-C? */
export function wasInterrupted(result: TrainResult): boolean {
  return result.reason.startsWith('interrupted');
}

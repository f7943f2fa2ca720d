/**
 * The Pretrain plugin contract: the small set of types every package implements or consumes.
 * docs/plugin-contract.md explains why each member exists.
 *
 * Data flow of one training step:
 *   CorpusSource.documents() → TokenizedDocument → ExampleBuilder (one objective) → Example
 *   → collate → Batch (host arrays) → each Objective.transformBatch (e.g. MLM masking)
 *   → Backbone.forward (tensors) → each Objective.loss / TaskHead.loss → weighted sum → optimizer.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './rng';

// ---------------------------------------------------------------------------------------------
// Tokenizer

/** Ids of the special tokens a tokenizer defines (undefined where it has none). */
export interface SpecialTokenIds {
  pad?: number;
  unk?: number;
  cls?: number;
  sep?: number;
  mask?: number;
  bos?: number;
  eos?: number;
}

/** One encoded text (or pair). Arrays are parallel: index i describes token i. */
export interface Encoding {
  ids: number[];
  tokens: string[];
  typeIds: number[];
  attentionMask: number[];
  specialTokensMask: number[];
  /** Index of the word (pre-token) each token came from; null for special and padding tokens. */
  wordIds: (number | null)[];
  /** Sequence (0 = first text, 1 = pair) each token came from; null for special and padding tokens. */
  sequenceIds: (number | null)[];
  /** [start, end) in UTF-16 code units of the JS string the token came from. */
  offsets: [number, number][];
  /** Extra windows produced by truncation with a stride (QA). */
  overflowing: Encoding[];
}

export interface EncodeOptions {
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  cleanUpTokenizationSpaces?: boolean;
}

/** What the rest of Pretrain needs from a tokenizer. @pretrain/tokenizer implements it. */
export interface TokenizerPlugin {
  encode(text: string, pair?: string | null, options?: EncodeOptions): Encoding;
  encodeBatch(inputs: (string | [string, string])[], options?: EncodeOptions): Encoding[];
  /**
   * Optional fast path: the token ids of one text, without special tokens, truncation or padding
   * (what `encode(text, null, { addSpecialTokens: false }).ids` gives when neither is set), without
   * building an Encoding. The corpus token cache uses it when a tokenizer has it.
   */
  encodeIds?(text: string): Int32Array;
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  getVocabSize(): number;
  specialTokenIds(): SpecialTokenIds;
  /** True when the token continues the previous token's word (WordPiece `##x`, BPE without a leading space marker). */
  isContinuation(id: number): boolean;
  /** HF `tokenizer.json` text. */
  toJSON(): string;
  /** Stable hash of the serialized tokenizer; caches key on it. */
  hash(): string;
}

// ---------------------------------------------------------------------------------------------
// Corpus

/** One unlabeled document, already split into sentences (or lines / paragraphs). */
export interface TextDocument {
  /** Stable id (source path + index); the train/validation split hashes it. */
  id: string;
  sentences: string[];
}

/** Token ids of one document, one Int32Array per sentence, with no special tokens. */
export interface TokenizedDocument {
  id: string;
  sentences: Int32Array[];
}

/** Serializable position of an iterator, saved in checkpoints for exact resume. */
export type IteratorState = Record<string, unknown>;

/** A restartable, resumable stream of items in a deterministic order. */
export interface ResumableStream<T> {
  [Symbol.asyncIterator](): AsyncIterator<T>;
  getState(): IteratorState;
  setState(state: IteratorState): void;
}

export interface CorpusSourcePlugin {
  /** Documents in a deterministic order for a given seed. */
  documents(options?: { split?: 'train' | 'validation'; seed?: number }): ResumableStream<TextDocument>;
}

// ---------------------------------------------------------------------------------------------
// Examples and batches (host memory: typed arrays, not tensors)

/** One training example as the example builder made it. */
export interface Example {
  inputIds: Int32Array;
  tokenTypeIds?: Int32Array;
  specialTokensMask?: Uint8Array;
  /** Word index per token (-1 for special tokens); whole-word masking groups on it. */
  wordIds?: Int32Array;
  /** Per-example scalar labels by name, e.g. { nextSentenceLabel: 1 }. */
  labels?: Record<string, number>;
  /** Per-token labels by name, e.g. { tokenLabels: Int32Array }; -100 means "ignore". */
  tokenLabels?: Record<string, Int32Array>;
}

/**
 * A padded batch of examples, row-major [size, seqLen]. Objectives add fields (e.g. MLM labels)
 * in transformBatch; the trainer turns the arrays into tensors right before the forward pass.
 */
export interface Batch {
  size: number;
  seqLen: number;
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
  specialTokensMask: Uint8Array;
  wordIds?: Int32Array;
  /** Named extra arrays: per-example ([size]) or per-token ([size * seqLen]) labels and indices. */
  fields: Record<string, Int32Array | Float32Array>;
}

/** Tensor view of a Batch, created once per step and shared by backbone and heads. */
export interface BatchTensors {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
  /** Host arrays stay available for heads that gather on the host (e.g. sparse MLM positions). */
  host: Batch;
}

// ---------------------------------------------------------------------------------------------
// Parameters

/** Named trainable variables, keyed by their HF tensor names. */
export type NamedVariables = Map<string, tf.Variable>;

/** Result of loading named tensors into a module (HF semantics: mismatches are reported, not fatal). */
export interface LoadReport {
  missing: string[];
  unexpected: string[];
}

/**
 * Anything that owns parameters: backbones, objective heads, task heads. Internal layouts may
 * differ from HF's (e.g. transposed Linear weights); stateDict/loadStateDict convert at the edge.
 */
export interface ParameterModule {
  /** Trainable variables by HF name (internal layout). The optimizer keys its state on these names. */
  variables(): NamedVariables;
  /** New tensors in HF layout, by HF name; the caller disposes them. Tied weights appear once. */
  stateDict(): Map<string, tf.Tensor>;
  /** Assigns tensors given in HF layout; reports names it lacked or did not know. Does not dispose inputs. */
  loadStateDict(tensors: Map<string, tf.Tensor>): LoadReport;
  /**
   * Whether a checkpoint name is this module's to load. Optional: a module without it is taken to own
   * every name (its loadStateDict reports each name it does not take). A module that passes over other
   * modules' names without reporting them (ParameterSet's owned prefixes) says so here, so that a
   * checkpoint shared by several modules still reports the names that none of them took.
   */
  ownsTensorName?(name: string): boolean;
  /**
   * What this module is in HF's terms, for checkpoints (optional; HF keeps the same facts on its head
   * classes). Core's checkpoint writer and loader compose these; the model packages hold no head names.
   */
  readonly hfHead?: HfHeadDeclaration;
  dispose(): void;
}

/** A ParameterModule's HF identity: the class it makes of a backbone and the names HF ties. */
export interface HfHeadDeclaration {
  /**
   * HF class-name suffix after the backbone's stem: `ForSequenceClassification` (Bert +
   * ForSequenceClassification), `LMHeadModel` (GPT2 + LMHeadModel). Objectives declare whole classes
   * with `hfArchitecture` instead (their combinations have classes of their own).
   */
  suffix?: string;
  /**
   * Checkpoint names HF ties to another tensor (HF's `_tied_weights_keys`): the MLM decoder
   * (`cls.predictions.decoder.weight` is the word embeddings), GPT-2's `lm_head.weight`. Never written,
   * and neither missing nor unexpected when loading. A backbone may declare the tied copies of its own tensors.
   */
  tiedNames?: readonly string[];
  /** Backbone name prefixes (without the base prefix) the HF class lacks, e.g. `pooler.`: not written. */
  withoutBackbone?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Backbone model

export type AttentionKind = 'bidirectional' | 'causal';

export interface BackboneInputs {
  inputIds: tf.Tensor2D;
  attentionMask?: tf.Tensor2D;
  tokenTypeIds?: tf.Tensor2D;
}

export interface ForwardOptions {
  training: boolean;
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
  /** Seeds dropout masks for this call when training (reproducible runs and exact resume). */
  dropoutSeed?: number;
}

export interface BackboneOutput {
  /** [batch, seq, hidden]: last layer (after the final LayerNorm for pre-LN models). */
  sequenceOutput: tf.Tensor3D;
  /** [batch, hidden]: pooler output where the model has one (BERT). */
  pooledOutput?: tf.Tensor2D;
  /** Embeddings output followed by every layer's output (HF `hidden_states`). */
  hiddenStates?: tf.Tensor3D[];
  /** Attention probabilities per layer, [batch, heads, seq, seq]. */
  attentions?: tf.Tensor4D[];
}

/** The facts about a backbone that objectives and heads size themselves from. */
export interface BackboneInfo {
  /** HF `model_type`: "bert", "gpt2", ... */
  modelType: string;
  /** HF base_model_prefix used when heads are saved with the backbone: "bert", "transformer". */
  basePrefix: string;
  attention: AttentionKind;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  maxPositions: number;
  /** HF activation name used by the model ("gelu", "gelu_new", "relu"); heads reuse it (BERT MLM transform). */
  hiddenAct: string;
  layerNormEps: number;
  initializerRange: number;
  hiddenDropoutProb: number;
  /** HF class of the bare backbone ("BertModel", "GPT2Model"): what a checkpoint is when no head class fits. */
  baseArchitecture?: string;
}

export interface BackbonePlugin extends ParameterModule {
  readonly info: BackboneInfo;
  forward(inputs: BackboneInputs, options: ForwardOptions): BackboneOutput;
  /** The input embedding matrix [vocab, hidden]; LM heads tie their decoders to it. */
  inputEmbeddings(): tf.Variable;
  /** HF config.json contents. */
  configJSON(): Record<string, unknown>;
  /**
   * Depth of a parameter for layer-wise strategies: 0 = embeddings, 1..numLayers = that layer,
   * numLayers + 1 = anything above the last layer (pooler, final LayerNorm).
   */
  layerIndexOf(parameterName: string): number;
}

// ---------------------------------------------------------------------------------------------
// Objectives (pre-training) and task heads (fine-tuning)

export interface LossOutput {
  loss: tf.Scalar;
  /** Scalars to log, e.g. { accuracy }; the trainer reads them after the step. */
  metrics: Record<string, tf.Scalar>;
}

export interface ExampleBuilderContext {
  tokenizer: TokenizerPlugin;
  maxLength: number;
  rng: Rng;
}

/** Turns tokenized documents into examples; exactly one objective of a run builds examples. */
export interface ExampleBuilder {
  build(documents: AsyncIterable<TokenizedDocument>, context: ExampleBuilderContext): AsyncIterable<Example>;
}

/** An HF model class a checkpoint can be saved as exactly. */
export interface HfClass {
  /** The `architectures` entry, e.g. `BertForMaskedLM`. */
  architecture: string;
  /**
   * Backbone parameter-name prefixes the class does not have (BertForMaskedLM: `pooler.`): such
   * tensors are neither written nor expected on load. Only for parameters the objectives never use.
   */
  withoutBackbone?: string[];
}

/**
 * How an objective's head appears in HF transformers: the class it is on its own, and the class it
 * forms together with other objectives (BertForPreTraining = mlm + nsp). Absent members: no such class.
 */
export interface ObjectiveArchitecture {
  alone?: HfClass;
  /** `with`: the names of exactly the other objectives that complete the class. */
  jointly?: HfClass & { with: string[] };
}

export interface ObjectiveContext {
  backbone: BackbonePlugin;
  tokenizer: TokenizerPlugin;
  rng: Rng;
}

export interface ObjectivePlugin extends ParameterModule {
  readonly name: string;
  /** Which backbones it can train; a mismatch is rejected at config time. */
  readonly requiresAttention?: AttentionKind;
  /** Present when this objective makes the examples (NSP pairs, CLM blocks, ...). */
  readonly exampleBuilder?: ExampleBuilder;
  /** Creates head parameters sized to the backbone; called once before training or loading. */
  init(context: ObjectiveContext): void;
  /** Host-side batch rewrite before the forward pass (MLM masking); gets the run's RNG for reproducibility. */
  transformBatch?(batch: Batch, rng: Rng): Batch;
  /** Loss (and metrics) from the backbone's output; runs inside the trainer's gradient tape. */
  loss(output: BackboneOutput, batch: BatchTensors, options: { training: boolean }): LossOutput;
  /**
   * The HF class of the checkpoint this objective's head is saved in (see ObjectiveArchitecture);
   * without it a pre-training checkpoint can only claim to be the bare backbone.
   */
  hfArchitecture?(info: BackboneInfo): ObjectiveArchitecture;
}

export type TaskKind = 'sequence-classification' | 'sequence-regression' | 'token-classification' | 'question-answering';

export interface TaskHeadContext {
  backbone: BackbonePlugin;
  rng: Rng;
}

export interface TaskHeadForwardOptions {
  training: boolean;
  dropoutSeed?: number;
  /** The batch's [batch, seq] mask (1 = token, 0 = padding), for heads that pool over tokens. */
  attentionMask?: tf.Tensor2D;
}

export interface TaskHeadPlugin extends ParameterModule {
  readonly task: TaskKind;
  init(context: TaskHeadContext): void;
  /** Logits (or scores) from the backbone output. */
  forward(output: BackboneOutput, options: TaskHeadForwardOptions): tf.Tensor;
  /** Loss from logits and the batch's labels; metrics are computed on the host from predictions. */
  loss(logits: tf.Tensor, batch: BatchTensors): tf.Scalar;
  /** HF config.json additions for this head (architectures, num_labels, id2label, problem_type). */
  configJSON(): Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Training tasks: what the trainer trains on top of a backbone

/** One example's model output in eval mode, trimmed to the example's length for per-token outputs. */
export interface Prediction {
  values: Float32Array;
  /** e.g. [numLabels], [tokens, numLabels], [tokens, 2] (QA start/end). */
  shape: number[];
}

/** A task's loss on one batch; `outputs` are the logits a predicting task (a head) also produced. */
export interface TaskLossOutput extends LossOutput {
  outputs?: tf.Tensor;
}

export interface TrainingTaskContext {
  /** Objectives need it (their init context, the example builder); heads do not. */
  tokenizer?: TokenizerPlugin;
  rng: Rng;
}

/**
 * The modules trained with a backbone and how a batch becomes their loss: pre-training's weighted
 * objectives, or fine-tuning's task head. The trainer holds one task and never asks which kind.
 */
export interface TrainingTask {
  /** The modules trained with the backbone (objective heads or the task head), in checkpoint order. */
  readonly modules: readonly ParameterModule[];
  /** Creates the modules' parameters, sized to the backbone; called once before training or loading. */
  init(context: TrainingTaskContext): void;
  /** The builder that makes examples from documents; throws when this task cannot train on documents. */
  documentBuilder(): ExampleBuilder;
  /** Host-side batch rewrite before the forward pass (MLM masking), drawing from `rng`. */
  transformBatch(batch: Batch, rng: Rng): Batch;
  /** Backbone forward, then the task's loss and scalar metrics; runs inside the trainer's gradient tape when training. */
  loss(batch: BatchTensors, options: ForwardOptions): TaskLossOutput;
  /** Eval-mode outputs (logits) for predictions; absent when the task predicts nothing. */
  predict?(batch: BatchTensors): tf.Tensor;
  /** Evaluation's metrics: the mean loss and metrics given, plus the task's own (perplexity, metrics of `predictions`). */
  evaluationMetrics(means: Record<string, number>, predictions: Prediction[], examples: Example[] | undefined): Record<string, number>;
  /** config.json keys the task adds to the backbone's: its HF class, the modules' own keys. */
  configJSON(): Record<string, unknown>;
  /** Backbone name prefixes the task's HF class lacks (BertForMaskedLM: `pooler.`): not written, not expected. */
  withoutBackbone(): string[] | undefined;
}

// ---------------------------------------------------------------------------------------------
// Trainer callbacks

export interface StepEvent {
  step: number;
  epoch: number;
  loss: number;
  metrics: Record<string, number>;
  learningRate: number;
  tokensPerSecond: number;
  elapsedMs: number;
}

export interface EvalEvent {
  step: number;
  metrics: Record<string, number>;
  isBest: boolean;
}

export interface CheckpointEvent {
  step: number;
  dir: string;
}

export interface TrainerCallbackPlugin {
  onTrainBegin?(info: { totalSteps: number | undefined }): void | Promise<void>;
  onStep?(event: StepEvent): void | Promise<void>;
  onEvaluate?(event: EvalEvent): void | Promise<void>;
  onEpochEnd?(event: { epoch: number; step: number }): void | Promise<void>;
  onCheckpoint?(event: CheckpointEvent): void | Promise<void>;
  onTrainEnd?(info: { step: number; stoppedEarly: boolean; reason?: string }): void | Promise<void>;
}

export interface PluginKinds {
  tokenizer: TokenizerPlugin;
  corpus: CorpusSourcePlugin;
  model: BackbonePlugin;
  objective: ObjectivePlugin;
  head: TaskHeadPlugin;
  callback: TrainerCallbackPlugin;
}

export type PluginKind = keyof PluginKinds;

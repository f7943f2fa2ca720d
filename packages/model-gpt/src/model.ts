/**
 * GPT-2 (Radford et al. 2019) as HF transformers' GPT2Model computes it, in TF.js: token +
 * position embeddings → pre-LN blocks with causal self-attention → final LayerNorm. Parameters live
 * in core's ParameterSet, keyed by HF names without the `transformer.` prefix, in HF's Conv1D layout
 * ([in, out]), which is already the layout of a plain x·W matmul.
 */
import * as tf from '@tensorflow/tfjs-core';
import { activate, checkParameterMemory, dense, dropout, FLOAT32_MIN, hasPadding, layerIndexByName, normalValues, paddingBias, ParameterSet, ParameterSetModule, PretrainError, Rng, stripPrefix, type BackboneInfo, type BackboneInputs, type BackboneOutput, type BackbonePlugin, type ForwardOptions, type LoadReport } from '@pretrain/core';
import { innerSize, parseGpt2Config, type Gpt2Config } from './config';
import { loadGpt2Pretrained, saveGpt2Pretrained, type LoadOptions, type SaveOptions } from './checkpoint';
import { generate, type GenerateOptions } from './generate';
import { KVCache, type HostRows } from './kv-cache';
import { activateInPlace, addInto, addToRows, layerNormRows } from './host-math';

export const GPT2_BASE_PREFIX = 'transformer';

/** Up to this many rows, q|k|v are split from one c_attn product (see queryKeyValue). */
const SPLIT_OUTPUT_MAX_ROWS = 64;

/** HF buffers that may appear in checkpoints but are not parameters (HF ignores them too). */
const IGNORED_CHECKPOINT_KEYS = [/^h\.\d+\.attn\.(bias|masked_bias)$/];

export type ParameterKind = 'weight' | 'projection' | 'bias' | 'embedding' | 'norm-weight' | 'norm-bias';

export interface ParameterSpec {
  name: string;
  /** Shape in HF layout (also the internal layout for GPT-2). */
  shape: number[];
  kind: ParameterKind;
}

/** Every parameter GPT2Model has, in HF's state-dict order. */
export function gpt2ParameterSpecs(config: Gpt2Config): ParameterSpec[] {
  const h = config.n_embd;
  const inner = innerSize(config);
  const norm = (name: string): ParameterSpec[] => [
    { name: `${name}.weight`, shape: [h], kind: 'norm-weight' },
    { name: `${name}.bias`, shape: [h], kind: 'norm-bias' },
  ];
  const conv1d = (name: string, inSize: number, outSize: number, kind: ParameterKind = 'weight'): ParameterSpec[] => [
    { name: `${name}.weight`, shape: [inSize, outSize], kind },
    { name: `${name}.bias`, shape: [outSize], kind: 'bias' },
  ];
  const specs: ParameterSpec[] = [
    { name: 'wte.weight', shape: [config.vocab_size, h], kind: 'embedding' },
    { name: 'wpe.weight', shape: [config.n_positions, h], kind: 'embedding' },
  ];
  for (let i = 0; i < config.n_layer; i++) {
    specs.push(
      ...norm(`h.${i}.ln_1`),
      ...conv1d(`h.${i}.attn.c_attn`, h, 3 * h),
      ...conv1d(`h.${i}.attn.c_proj`, h, h, 'projection'),
      ...norm(`h.${i}.ln_2`),
      ...conv1d(`h.${i}.mlp.c_fc`, h, inner),
      ...conv1d(`h.${i}.mlp.c_proj`, inner, h, 'projection'),
    );
  }
  specs.push(...norm('ln_f'));
  return specs;
}

/** Releases a cache's buffers early (they are host memory, freed with the cache anyway). */
export function disposeCache(cache: KVCache | undefined): void {
  cache?.clear();
}

export interface Gpt2ModelOptions {
  /** Seeds the random initialisation (HF's init, including the 1/sqrt(2·n_layer) scaled projections). */
  seed?: number;
}

interface RunOptions {
  training: boolean;
  dropoutSeed?: number;
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
  attentionMask?: tf.Tensor2D;
  /** Stores every layer's keys and values here (an empty cache: the prefill of generation). */
  cache?: KVCache;
}

export class Gpt2Model extends ParameterSetModule implements BackbonePlugin {
  readonly config: Gpt2Config;
  readonly info: BackboneInfo;
  /** What fromPretrained found missing or unexpected in the checkpoint (HF logs the same). */
  loadReport?: LoadReport;
  /** GPT2LMHeadModel saves the token embeddings again as `lm_head.weight` (tied): never written, never unexpected. */
  readonly hfHead = { tiedNames: ['lm_head.weight'] } as const;
  private readonly headSize: number;
  private readonly dropoutSeeds: Rng;
  private disposed = false;

  constructor(config: Gpt2Config | Record<string, unknown>, options: Gpt2ModelOptions = {}) {
    // `transformer.` optional, HF's attention-mask buffers ignored.
    super(ParameterSet.forBackbone({ basePrefix: GPT2_BASE_PREFIX, modelName: 'GPT-2', ignorePatterns: IGNORED_CHECKPOINT_KEYS }));
    this.config = parseGpt2Config(config);
    const c = this.config;
    this.headSize = c.n_embd / c.n_head;
    this.info = {
      modelType: 'gpt2',
      basePrefix: GPT2_BASE_PREFIX,
      attention: 'causal',
      vocabSize: c.vocab_size,
      hiddenSize: c.n_embd,
      numLayers: c.n_layer,
      maxPositions: c.n_positions,
      hiddenAct: c.activation_function,
      layerNormEps: c.layer_norm_epsilon,
      initializerRange: c.initializer_range,
      hiddenDropoutProb: c.resid_pdrop,
      baseArchitecture: 'GPT2Model',
    };
    const rng = new Rng(options.seed ?? 0);
    this.dropoutSeeds = rng.fork();
    const specs = gpt2ParameterSpecs(c);
    checkParameterMemory('GPT-2', specs);
    for (const spec of specs) this.parameters.add(spec.name, this.initialValue(spec, rng));
  }

  /** Loads `config.json` + `model.safetensors` written by HF transformers or by savePretrained. */
  static fromPretrained(dir: string, options: LoadOptions = {}): Gpt2Model {
    return loadGpt2Pretrained(dir, options);
  }

  /** Writes an HF checkpoint; with `heads` (or `lmHead: true`), a GPT2LMHeadModel checkpoint. */
  savePretrained(dir: string, options: SaveOptions = {}): void {
    saveGpt2Pretrained(this, dir, options);
  }

  private initialValue(spec: ParameterSpec, rng: Rng): tf.Tensor {
    const c = this.config;
    if (spec.kind === 'bias' || spec.kind === 'norm-bias') return tf.zeros(spec.shape);
    if (spec.kind === 'norm-weight') return tf.ones(spec.shape);
    const std = spec.kind === 'projection' ? c.initializer_range / Math.sqrt(2 * c.n_layer) : c.initializer_range;
    return tf.tensor(normalValues(spec.shape.reduce((a, b) => a * b, 1), std, rng), spec.shape);
  }

  private p<R extends tf.Rank>(name: string): tf.Variable<R> {
    return this.parameters.get(name) as tf.Variable<R>;
  }

  forward(inputs: BackboneInputs, options: ForwardOptions): BackboneOutput {
    return this.run(inputs.inputIds, { ...options, attentionMask: inputs.attentionMask });
  }

  /** An empty key/value cache for `batch` rows, preallocated for `capacity` positions (it grows past them). */
  createCache(batch: number, capacity: number = this.config.n_positions): KVCache {
    const c = this.config;
    return new KVCache({ layers: c.n_layer, batch, heads: c.n_head, headSize: this.headSize }, capacity);
  }

  /**
   * Eval-mode forward over new tokens only, attending to the cached positions: the final hidden
   * states [batch, new, hidden]. The new positions' keys and values are appended to `cache` in
   * place (without one, a new cache is made); the returned cache is that same object.
   */
  forwardWithCache(inputIds: tf.Tensor2D, cache?: KVCache): { hidden: tf.Tensor3D; cache: KVCache } {
    const [batch, seq] = inputIds.shape;
    const kv = cache ?? this.createCache(batch, seq);
    this.checkCache(kv, batch, seq);
    if (kv.length === 0 && seq > 1) return { hidden: this.run(inputIds, { training: false, cache: kv }).sequenceOutput, cache: kv };
    // After the prefill, new tokens go one position at a time.
    const ids = inputIds.arraySync();
    const steps = Array.from({ length: seq }, (_, s) => this.decodeStep(ids.map((row) => row[s]), kv));
    const hidden = steps.length === 1 ? steps[0] : (tf.concat(steps, 1) as tf.Tensor3D);
    if (steps.length > 1) for (const step of steps) step.dispose();
    return { hidden, cache: kv };
  }

  private checkCache(cache: KVCache, batch: number, seq: number): void {
    const c = this.config;
    const { layers, heads, headSize, batch: rows } = cache.shape;
    if (layers !== c.n_layer || heads !== c.n_head || headSize !== this.headSize) {
      throw new PretrainError(`GPT-2 KV cache is for ${layers} layers × ${heads} heads × ${headSize} but the model has ${c.n_layer} × ${c.n_head} × ${this.headSize}`);
    }
    if (rows !== batch) throw new PretrainError(`GPT-2 KV cache holds ${rows} rows but the input has ${batch}`);
    if (cache.length + seq > c.n_positions) throw new PretrainError(`GPT-2 input reaches position ${cache.length + seq} but n_positions is ${c.n_positions}`);
  }

  /**
   * Logits of the LM head tied to the token embeddings: hidden [rows, n_embd] → [rows, vocab].
   * Callers that project many times with fixed weights (generation) may pass wteᵀ [n_embd, vocab],
   * computed once, to make it a plain matmul.
   */
  lmLogits(hidden: tf.Tensor2D, transposedEmbeddings?: tf.Tensor2D): tf.Tensor2D {
    if (transposedEmbeddings) return tf.matMul(hidden, transposedEmbeddings);
    return tf.matMul(hidden, this.p<tf.Rank.R2>('wte.weight'), false, true);
  }

  /** Autoregressive generation (greedy or sampled, KV-cached by default); returns the new tokens per row. */
  generate(prompt: number[] | number[][], options: GenerateOptions = {}): number[][] {
    return generate(this, prompt, options);
  }

  /**
   * One new position per row (`tokens`, one per batch row) against the cache → hidden [batch, 1,
   * hidden]. Its vectors are a few hundred floats, so everything but the weight products runs on
   * the host (host-math.ts, the cache's attend): ~20 kernels for a 2-layer model instead of ~130,
   * whose launch costs more than their arithmetic. Same math as run(); the KV-cache tests compare.
   */
  private decodeStep(tokens: number[], cache: KVCache): tf.Tensor3D {
    if (this.disposed) throw new PretrainError('Gpt2Model.forward: the model was disposed');
    const c = this.config;
    const h = c.n_embd;
    const position = cache.length;
    const x = this.hostEmbed(tokens, position);
    for (let i = 0; i < c.n_layer; i++) {
      const p = `h.${i}`;
      const qkv = this.hostLinear(this.hostNorm(x, `${p}.ln_1`), `${p}.attn.c_attn`);
      const part = (offset: number): HostRows => ({ data: qkv, stride: 3 * h, offset });
      cache.write(i, part(h), part(2 * h), 1);
      addInto(x, this.hostLinear(cache.attend(i, part(0), this.attentionScale(i), position + 1), `${p}.attn.c_proj`));
      const inner = activateInPlace(this.hostLinear(this.hostNorm(x, `${p}.ln_2`), `${p}.mlp.c_fc`), c.activation_function);
      addInto(x, this.hostLinear(inner, `${p}.mlp.c_proj`));
    }
    cache.advance(1);
    return tf.tensor3d(this.hostNorm(x, 'ln_f'), [tokens.length, 1, h]);
  }

  /** Runs `compute` and returns its values as a new host array (the tensors are freed). */
  private onHost(compute: () => tf.Tensor): Float32Array {
    const result = tf.tidy(compute);
    // A copy: on cpu, dataSync may hand out the storage of a variable (slices of one do).
    const values = Float32Array.from(result.dataSync() as Float32Array);
    result.dispose();
    return values;
  }

  /** Token embeddings of `tokens` + the position embedding of `position`, [rows, n_embd] on the host. */
  private hostEmbed(tokens: number[], position: number): Float32Array {
    const x = this.onHost(() => tf.gather(this.p<tf.Rank.R2>('wte.weight'), tf.tensor1d(tokens, 'int32')));
    addToRows(x, this.onHost(() => tf.slice(this.p<tf.Rank.R2>('wpe.weight'), [position, 0], [1, this.config.n_embd])));
    return x;
  }

  /** x · W + b for host rows: the product on the backend, the bias on the host. */
  private hostLinear(x: Float32Array, name: string): Float32Array {
    const weight = this.p<tf.Rank.R2>(`${name}.weight`);
    const inSize = weight.shape[0];
    const out = this.onHost(() => tf.matMul(tf.tensor2d(x, [x.length / inSize, inSize]), weight));
    addToRows(out, this.p(`${name}.bias`).dataSync());
    return out;
  }

  private hostNorm(x: Float32Array, name: string): Float32Array {
    return layerNormRows(x, this.config.n_embd, this.p(`${name}.weight`).dataSync(), this.p(`${name}.bias`).dataSync(), this.config.layer_norm_epsilon);
  }

  private run(inputIds: tf.Tensor2D, options: RunOptions): BackboneOutput {
    if (this.disposed) throw new PretrainError('Gpt2Model.forward: the model was disposed');
    const c = this.config;
    const [batch, seq] = inputIds.shape;
    if (seq > c.n_positions) throw new PretrainError(`GPT-2 input reaches position ${seq} but n_positions is ${c.n_positions}`);
    const training = options.training && (c.resid_pdrop > 0 || c.embd_pdrop > 0 || c.attn_pdrop > 0);
    const rng = training ? new Rng(options.dropoutSeed ?? this.dropoutSeeds.nextUint32()) : undefined;
    const as3d = (x: tf.Tensor2D) => tf.reshape(x, [batch, seq, c.n_embd]) as tf.Tensor3D;
    const hiddenStates: tf.Tensor3D[] = [];
    const attentions: tf.Tensor4D[] = [];

    let hidden = this.embed(inputIds, rng);
    const bias = attentionBias(seq, options.attentionMask);
    for (let i = 0; i < c.n_layer; i++) {
      if (options.outputHiddenStates) hiddenStates.push(as3d(hidden));
      const block = this.block(i, hidden, batch, seq, bias, rng);
      hidden = block.output;
      if (options.outputAttentions) attentions.push(block.probs);
      if (options.cache) this.cacheKeysValues(options.cache, i, block.keys, block.values, seq);
    }
    options.cache?.advance(seq);
    const sequenceOutput = as3d(this.parameters.layerNorm(hidden, 'ln_f', this.config.layer_norm_epsilon));
    if (options.outputHiddenStates) hiddenStates.push(sequenceOutput);
    const output: BackboneOutput = { sequenceOutput };
    if (options.outputHiddenStates) output.hiddenStates = hiddenStates;
    if (options.outputAttentions) output.attentions = attentions;
    return output;
  }

  /** Copies a layer's keys and values ([batch*seq, hidden] each) into the cache. */
  private cacheKeysValues(cache: KVCache, layer: number, keys: tf.Tensor2D, values: tf.Tensor2D, seq: number): void {
    const width = this.config.n_embd;
    cache.write(layer, { data: keys.dataSync(), stride: width, offset: 0 }, { data: values.dataSync(), stride: width, offset: 0 }, seq);
  }

  /** Token + position embeddings → dropout, as [batch*seq, hidden]. */
  private embed(inputIds: tf.Tensor2D, rng: Rng | undefined): tf.Tensor2D {
    const c = this.config;
    const [batch, seq] = inputIds.shape;
    const tokens = tf.reshape(tf.gather(this.p<tf.Rank.R2>('wte.weight'), tf.reshape(inputIds, [-1])), [batch, seq, c.n_embd]);
    const positions = tf.slice(this.p<tf.Rank.R2>('wpe.weight'), [0, 0], [seq, c.n_embd]);
    const summed = tf.reshape(tf.add(tokens, positions), [batch * seq, c.n_embd]) as tf.Tensor2D;
    return rng ? dropout(summed, c.embd_pdrop, rng) : summed;
  }

  /** Pre-LN block: x + attn(ln_1(x)), then + mlp(ln_2(·)). */
  private block(index: number, x: tf.Tensor2D, batch: number, seq: number, bias: tf.Tensor | undefined, rng: Rng | undefined) {
    const c = this.config;
    const p = `h.${index}`;
    const attention = this.attention(index, this.parameters.layerNorm(x, `${p}.ln_1`, this.config.layer_norm_epsilon), batch, seq, bias, rng);
    let attended = this.parameters.dense(attention.context, `${p}.attn.c_proj`);
    if (rng) attended = dropout(attended, c.resid_pdrop, rng);
    const afterAttention = tf.add(x, attended) as tf.Tensor2D;
    let mlp = this.parameters.dense(activate(this.parameters.dense(this.parameters.layerNorm(afterAttention, `${p}.ln_2`, this.config.layer_norm_epsilon), `${p}.mlp.c_fc`), c.activation_function), `${p}.mlp.c_proj`);
    if (rng) mlp = dropout(mlp, c.resid_pdrop, rng);
    return { output: tf.add(afterAttention, mlp) as tf.Tensor2D, probs: attention.probs, keys: attention.keys, values: attention.values };
  }

  /** 1/sqrt(headSize) (when scale_attn_weights), divided by layer + 1 with scale_attn_by_inverse_layer_idx. */
  private attentionScale(index: number): number {
    const c = this.config;
    const scale = c.scale_attn_weights ? 1 / Math.sqrt(this.headSize) : 1;
    return c.scale_attn_by_inverse_layer_idx ? scale / (index + 1) : scale;
  }

  /**
   * Causal multi-head attention. One matmul makes q|k|v (HF's c_attn); keys go straight to
   * [batch, heads, headSize, seq] so the score matmul is a plain batched matmul; the scale is
   * applied to the queries (fewer elements than the scores). Also returns k and v as [rows, hidden].
   */
  private attention(index: number, x: tf.Tensor2D, batch: number, seq: number, bias: tf.Tensor | undefined, rng: Rng | undefined) {
    const c = this.config;
    const heads = c.n_head;
    const d = this.headSize;
    const [q, k, v] = this.queryKeyValue(x, index);
    const scale = this.attentionScale(index);
    const toHeads = (t: tf.Tensor, perm: number[], shape: [number, number, number, number]) => headLayout(t, [batch, seq, heads, d], perm, shape);
    const query = toHeads(scale === 1 ? q : tf.mul(q, scale), [0, 2, 1, 3], [batch, heads, seq, d]);
    const keyT = toHeads(k, [0, 2, 3, 1], [batch, heads, d, seq]);
    const value = toHeads(v, [0, 2, 1, 3], [batch, heads, seq, d]);
    let scores = tf.matMul(query, keyT) as tf.Tensor4D;
    if (bias) scores = tf.add(scores, bias);
    const probs = tf.softmax(scores) as tf.Tensor4D;
    const dropped = rng ? dropout(probs, c.attn_pdrop, rng) : probs;
    const heads4d = tf.matMul(dropped, value);
    const context = tf.reshape(seq === 1 ? heads4d : tf.transpose(heads4d, [0, 2, 1, 3]), [batch * seq, c.n_embd]) as tf.Tensor2D;
    return { context, probs: dropped, keys: k, values: v };
  }

  /**
   * q, k, v = x · c_attn split along the output axis. For many rows the (small) weight is split
   * rather than the [rows, 3·hidden] product, whose column split is slow on wasm; for a few rows
   * one matmul and a split is fewer kernels.
   */
  private queryKeyValue(x: tf.Tensor2D, index: number): tf.Tensor2D[] {
    const h = this.config.n_embd;
    if (x.shape[0] <= SPLIT_OUTPUT_MAX_ROWS) return tf.split(this.parameters.dense(x, `h.${index}.attn.c_attn`), 3, 1);
    const weight = this.p<tf.Rank.R2>(`h.${index}.attn.c_attn.weight`);
    const bias = this.p<tf.Rank.R1>(`h.${index}.attn.c_attn.bias`);
    return [0, 1, 2].map((part) => dense(x, tf.slice(weight, [0, part * h], [h, h]), tf.slice(bias, [part * h], [h])));
  }

  inputEmbeddings(): tf.Variable {
    return this.p('wte.weight');
  }

  configJSON(): Record<string, unknown> {
    return { ...this.config };
  }

  layerIndexOf(parameterName: string): number {
    return layerIndexByName(parameterName, GPT2_BASE_PREFIX, ['wte.', 'wpe.'], /^h\.(\d+)\./, this.config.n_layer);
  }

  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    super.dispose();
  }
}

/**
 * Additive causal bias [1, 1, seq, seq] (float32 min above the diagonal) plus padding, clamped so
 * causal + padding never reaches -Infinity. Null for a single token without padding.
 */
function attentionBias(seq: number, attentionMask: tf.Tensor2D | undefined): tf.Tensor | undefined {
  let causal: tf.Tensor | undefined;
  if (seq > 1) {
    const values = new Float32Array(seq * seq);
    for (let i = 0; i < seq; i++) values.fill(FLOAT32_MIN, i * seq + i + 1, (i + 1) * seq);
    causal = tf.tensor4d(values, [1, 1, seq, seq]);
  }
  if (attentionMask && attentionMask.shape[1] !== seq) {
    throw new PretrainError(`GPT-2 attention mask covers ${attentionMask.shape[1]} positions but the input reaches ${seq}`);
  }
  if (!attentionMask || !hasPadding(attentionMask)) return causal;
  const padding = paddingBias(attentionMask);
  return causal ? tf.maximum(tf.add(causal, padding), FLOAT32_MIN) : padding;
}

/**
 * [rows, hidden] → per-head layout by `perm` of [batch, seq, heads, headSize]. With one position
 * (a one-token input) every such permutation keeps the memory order: a reshape, no copy.
 */
function headLayout(t: tf.Tensor, split: [number, number, number, number], perm: number[], shape: [number, number, number, number]): tf.Tensor4D {
  const [, seq] = split;
  return (seq === 1 ? tf.reshape(t, shape) : tf.transpose(tf.reshape(t, split), perm)) as tf.Tensor4D;
}

export { stripPrefix };

import * as tf from '@tensorflow/tfjs-core';
import type { LoadReport, NamedVariables, ParameterModule } from './contract';
import { PretrainError } from './errors';
import { dense, layerNorm } from './nn';
import type { Rng } from './rng';

/**
 * How a parameter is stored inside versus in HF checkpoints. `linear` weights are kept [in, out]
 * (x·W runs on the fast matmul path) and exchanged as HF's nn.Linear [out, in].
 */
export type ParameterLayout = 'plain' | 'linear';

interface Entry {
  variable: tf.Variable;
  layout: ParameterLayout;
}

let nextVariableId = 0;

/** How a ParameterSet maps checkpoint names to its own (beyond owned prefixes, aliases and ignored names). */
export interface ParameterSetOptions {
  /**
   * A base prefix that checkpoint names may carry (`bert`, `transformer`): `bert.x` and `x` both load
   * into `x`. A backbone's set stores names without it; the checkpoint writer adds it.
   */
  stripPrefix?: string;
  /** Renames a checkpoint name (after prefix stripping) before lookup, e.g. legacy LayerNorm `gamma`/`beta` → `weight`/`bias`. */
  rename?: (name: string) => string;
  /** Checkpoint names (after stripping and renaming) accepted and ignored, e.g. HF buffers such as `position_ids`. */
  ignorePatterns?: readonly RegExp[];
  /** The shape-mismatch error (`given` as in the checkpoint, shapes in HF layout); a generic message otherwise. */
  describeShapeMismatch?: (given: string, shape: readonly number[], expected: readonly number[]) => string;
}

/**
 * The trainable tensors of one module, keyed by their HF names, with HF-layout state dicts. Objective
 * heads (MLM, NSP, SOP, ...), task heads and the backbones (BERT, GPT-2) keep their parameters in one.
 */
export class ParameterSet implements ParameterModule {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** Names starting with one of these belong to this set; other checkpoint tensors are not ours to report. */
    private readonly ownedPrefixes: string[],
    /** Alternative checkpoint names (HF tied copies) mapped to the stored name. */
    private readonly aliases: Record<string, string> = {},
    /** Checkpoint names we accept and ignore (e.g. a decoder weight tied to the embeddings). */
    private readonly ignored: string[] = [],
    private readonly options: ParameterSetOptions = {},
  ) {}

  /**
   * A backbone's set: it looks at every checkpoint name (what it does not take is reported, for the
   * heads to claim), its base prefix is optional, and shape errors name the model's config.
   */
  static forBackbone(options: { basePrefix: string; modelName: string; rename?: (name: string) => string; ignorePatterns?: readonly RegExp[] }): ParameterSet {
    const { basePrefix, modelName, rename, ignorePatterns } = options;
    const describeShapeMismatch = (given: string, shape: readonly number[], expected: readonly number[]) => `tensor "${given}" has shape [${shape}] but this ${modelName} config expects [${expected}]`;
    return new ParameterSet([''], {}, [], { stripPrefix: basePrefix, rename, ignorePatterns, describeShapeMismatch });
  }

  add(name: string, initial: tf.Tensor, layout: ParameterLayout = 'plain'): tf.Variable {
    if (this.entries.has(name)) throw new PretrainError(`parameter ${name} is defined twice`);
    const variable = tf.variable(initial, true, `${name}_${nextVariableId++}`);
    initial.dispose();
    this.entries.set(name, { variable, layout });
    return variable;
  }

  /** Whether a checkpoint name falls under this set's owned prefixes (taken, aliased, ignored or unexpected). */
  owns(name: string): boolean {
    return this.ownedPrefixes.some((p) => name.startsWith(p));
  }

  get(name: string): tf.Variable {
    const entry = this.entries.get(name);
    if (!entry) throw new PretrainError(`parameter ${name} does not exist (was init() called?)`);
    return entry.variable;
  }

  /** x·W + b (core's `dense`) with this set's `${name}.weight` (kept [in, out]) and `${name}.bias`. */
  dense(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return dense(x, this.get(`${name}.weight`) as tf.Tensor2D, this.get(`${name}.bias`) as tf.Tensor1D);
  }

  /** Core's `layerNorm` with this set's `${name}.weight` (γ) and `${name}.bias` (β). */
  layerNorm(x: tf.Tensor2D, name: string, eps: number): tf.Tensor2D {
    return layerNorm(x, this.get(`${name}.weight`) as tf.Tensor1D, this.get(`${name}.bias`) as tf.Tensor1D, eps);
  }

  variables(): NamedVariables {
    return new Map([...this.entries].map(([name, e]) => [name, e.variable]));
  }

  stateDict(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, { variable, layout }] of this.entries) {
      out.set(name, layout === 'linear' ? tf.transpose(variable) : tf.clone(variable));
    }
    return out;
  }

  loadStateDict(tensors: Map<string, tf.Tensor>): LoadReport {
    const seen = new Set<string>();
    const unexpected: string[] = [];
    for (const [given, tensor] of tensors) {
      if (!this.owns(given)) continue;
      if (this.ignored.includes(given)) continue;
      const name = this.storedName(given);
      const entry = this.entries.get(name);
      if (!entry) {
        if (!this.options.ignorePatterns?.some((pattern) => pattern.test(name))) unexpected.push(given);
        continue;
      }
      if (seen.has(name)) continue;
      const value = entry.layout === 'linear' ? tf.transpose(tensor) : tensor;
      if (!tf.util.arraysEqual(value.shape, entry.variable.shape)) {
        const hfShape = entry.layout === 'linear' ? [...entry.variable.shape].reverse() : entry.variable.shape;
        if (value !== tensor) value.dispose();
        const describe = this.options.describeShapeMismatch;
        throw new PretrainError(describe ? describe(given, tensor.shape, hfShape) : `${given}: checkpoint has shape [${tensor.shape}], the head expects [${hfShape}]`);
      }
      tf.tidy(() => entry.variable.assign(tf.cast(value, 'float32')));
      if (value !== tensor) value.dispose();
      seen.add(name);
    }
    const missing = [...this.entries.keys()].filter((n) => !seen.has(n));
    return { missing, unexpected };
  }

  /** The stored name a checkpoint name loads into: alias, then base prefix stripped, then renamed. */
  private storedName(given: string): string {
    let name = this.aliases[given] ?? given;
    const prefix = this.options.stripPrefix;
    if (prefix !== undefined && name.startsWith(`${prefix}.`)) name = name.slice(prefix.length + 1);
    return this.options.rename ? this.options.rename(name) : name;
  }

  dispose(): void {
    for (const { variable } of this.entries.values()) variable.dispose();
    this.entries.clear();
  }
}

/**
 * Base for objectives and heads whose trainable tensors all live in one ParameterSet: the
 * ParameterModule methods delegate to it.
 */
export abstract class ParameterSetModule implements ParameterModule {
  protected constructor(protected readonly parameters: ParameterSet) {}

  variables(): NamedVariables {
    return this.parameters.variables();
  }

  stateDict(): Map<string, tf.Tensor> {
    return this.parameters.stateDict();
  }

  loadStateDict(tensors: Map<string, tf.Tensor>): LoadReport {
    return this.parameters.loadStateDict(tensors);
  }

  ownsTensorName(name: string): boolean {
    return this.parameters.owns(name);
  }

  dispose(): void {
    this.parameters.dispose();
  }
}

/** Normal(0, std) values drawn from the run's RNG, so initialisation is reproducible. */
export function normalTensor(shape: number[], std: number, rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.normal() * std;
  return tf.tensor(values, shape, 'float32');
}

/**
 * Depth of a backbone parameter for layer-wise strategies (BackbonePlugin.layerIndexOf): 0 for names
 * under `embeddingPrefixes`, layer + 1 where `layerPattern` captures the layer index, numLayers + 1
 * for anything above the last layer. The base prefix is optional.
 */
export function layerIndexByName(parameterName: string, basePrefix: string, embeddingPrefixes: readonly string[], layerPattern: RegExp, numLayers: number): number {
  const name = parameterName.startsWith(`${basePrefix}.`) ? parameterName.slice(basePrefix.length + 1) : parameterName;
  if (embeddingPrefixes.some((prefix) => name.startsWith(prefix))) return 0;
  const match = layerPattern.exec(name);
  return match ? Number(match[1]) + 1 : numLayers + 1;
}

/**
 * HF checkpoint directories (`config.json` + `model.safetensors`, as transformers'
 * `save_pretrained` writes them), shared by the model packages: reading the config and the tensors,
 * splitting a checkpoint between a backbone and its heads, and saving a backbone with heads.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { writeJsonAtomic } from './atomic';
import { baseArchitectureOf, objectivesArchitecture } from './architecture';
import type { BackboneInfo, HfClass, LoadReport, ObjectivePlugin, ParameterModule } from './contract';
import { PretrainError } from './errors';
import { readJsonFile } from './json-file';
import { readSafetensors, writeSafetensors } from './safetensors';

export const HF_CONFIG_FILE = 'config.json';
export const HF_WEIGHTS_FILE = 'model.safetensors';

/** A module whose config.json additions (architectures, num_labels, ...) are merged on save. */
export type CheckpointHead = ParameterModule & { configJSON?: () => Record<string, unknown> };

/** `bert.encoder...` → `encoder...`; names without the prefix pass through. */
export function stripPrefix(name: string, prefix: string): string {
  return name.startsWith(`${prefix}.`) ? name.slice(prefix.length + 1) : name;
}

/**
 * Reads `dir/config.json` merged with `overrides`; `modelName` (e.g. `BERT`) goes into the error
 * when the file is missing. The caller validates the result (`file` names it in errors).
 */
export function readHfConfigJson(dir: string, modelName: string, overrides: Record<string, unknown> = {}): { config: Record<string, unknown>; file: string } {
  const file = path.join(dir, HF_CONFIG_FILE);
  if (!fs.existsSync(file)) throw new PretrainError(`${file}: not found (a pretrained ${modelName} directory needs config.json and model.safetensors)`, { file });
  const raw = readJsonFile(file);
  return { config: { ...(raw as Record<string, unknown>), ...overrides }, file };
}

export const HF_WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

/** Weight files we cannot read: PyTorch pickles (reading one can run code), TF and Flax formats. */
const UNREADABLE_WEIGHTS = ['pytorch_model.bin', 'pytorch_model.bin.index.json', 'tf_model.h5', 'flax_model.msgpack'];

/**
 * The safetensors files of an HF model folder: `model.safetensors`, or the shards listed in
 * `model.safetensors.index.json` (what save_pretrained writes above max_shard_size). A folder with
 * only a pickle `.bin` (or TF/Flax weights) gets an error saying how to convert it.
 */
export function checkpointWeightFiles(dir: string): string[] {
  const single = path.join(dir, HF_WEIGHTS_FILE);
  if (fs.existsSync(single)) return [single];
  const indexFile = path.join(dir, HF_WEIGHTS_INDEX_FILE);
  if (fs.existsSync(indexFile)) return shardFiles(dir, indexFile);
  const other = UNREADABLE_WEIGHTS.find((name) => fs.existsSync(path.join(dir, name)));
  if (other) {
    throw new PretrainError(
      `${path.join(dir, other)}: only safetensors weights can be read (a pickle .bin can run code when loaded; TF/Flax files are other formats). ` +
        `Convert the folder once where PyTorch is installed: python -c "from transformers import AutoModel; AutoModel.from_pretrained('${dir}').save_pretrained('${dir}', safe_serialization=True)" ` +
        `(use the class in config.json "architectures" instead of AutoModel to keep the heads)`,
      { file: path.join(dir, other) },
    );
  }
  throw new PretrainError(`${single}: not found (nor ${HF_WEIGHTS_INDEX_FILE})`, { file: single });
}

function shardFiles(dir: string, indexFile: string): string[] {
  let index: { weight_map?: Record<string, unknown> };
  try {
    index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  } catch (error) {
    throw new PretrainError(`${indexFile}: not valid JSON (${(error as Error).message})`, { file: indexFile });
  }
  const map = index.weight_map;
  if (!map || typeof map !== 'object' || Object.keys(map).length === 0) throw new PretrainError(`${indexFile}: "weight_map" must map tensor names to shard files`, { file: indexFile, path: 'weight_map' });
  const shards = [...new Set(Object.values(map))];
  for (const shard of shards) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || !shard.endsWith('.safetensors')) {
      throw new PretrainError(`${indexFile}: weight_map names "${String(shard)}", not a .safetensors file in this folder`, { file: indexFile, path: 'weight_map' });
    }
    if (!fs.existsSync(path.join(dir, shard))) throw new PretrainError(`${path.join(dir, shard)}: shard listed in ${indexFile} not found`, { file: path.join(dir, shard) });
  }
  return shards.map((shard) => path.join(dir, shard as string));
}

/**
 * Reads an HF folder's weights (`model.safetensors` or its shards) as float32/int32 tensors (the
 * caller disposes them). A name found in two shards is an error.
 */
export function readCheckpointTensors(dir: string): Map<string, tf.Tensor> {
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const file of checkpointWeightFiles(dir)) {
      for (const [name, t] of readSafetensors(file).tensors) {
        if (tensors.has(name)) throw new PretrainError(`${file}: tensor "${name}" is also in another shard`, { file });
        tensors.set(name, tf.tensor(t.data as Float32Array | Int32Array, t.shape, t.dtype.startsWith('F') || t.dtype === 'BF16' ? 'float32' : 'int32'));
      }
    }
  } catch (error) {
    for (const tensor of tensors.values()) tensor.dispose();
    throw error;
  }
  return tensors;
}

/**
 * Loads `dir/model.safetensors` into a freshly built model through `load` (which returns the load
 * report, kept as `model.loadReport`). The tensors are always disposed; on failure the model is
 * too, and a PretrainError is re-thrown naming the weights file.
 */
export function loadCheckpointWeights<M extends { dispose(): void; loadReport?: LoadReport }>(dir: string, model: M, load: (tensors: Map<string, tf.Tensor>) => LoadReport): M {
  const tensors = readCheckpointTensors(dir);
  try {
    model.loadReport = load(tensors);
  } catch (error) {
    model.dispose();
    throw error instanceof PretrainError ? new PretrainError(`${path.join(dir, HF_WEIGHTS_FILE)}: ${error.message}`, { file: dir, cause: error }) : error;
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
  return model;
}

export interface SplitLoadOptions {
  /** Names tied to another tensor besides those the modules declare (`hfHead.tiedNames`): neither missing when absent nor unexpected when present. */
  tiedNames?: readonly string[];
  /** Renames a non-backbone checkpoint name before the heads see it (e.g. legacy `gamma` → `weight`). */
  renameHeadKey?: (name: string) => string;
}

/**
 * Splits a checkpoint between a backbone and heads: the backbone takes what it knows, every head
 * sees the rest; the reports are merged (a name is unexpected only if no one took it).
 */
export function loadBackboneAndHeads(backbone: ParameterModule, tensors: Map<string, tf.Tensor>, heads: ParameterModule[], options: SplitLoadOptions = {}): LoadReport {
  const tied = tiedNamesOf([backbone, ...heads], options.tiedNames);
  const rename = options.renameHeadKey ?? ((name: string) => name);
  const backboneReport = backbone.loadStateDict(tensors);
  const rest = new Map([...tensors].filter(([name]) => backboneReport.unexpected.includes(name)).map(([name, t]) => [rename(name), t]));
  const missing = [...backboneReport.missing];
  let unclaimed = new Set(rest.keys());
  for (const head of heads) {
    const report = head.loadStateDict(rest);
    missing.push(...report.missing.filter((name) => !tied.includes(name)));
    const headUnexpected = new Set(report.unexpected);
    // A head leaves a name unclaimed when it reports it, or when the name is not its own at all.
    unclaimed = new Set([...unclaimed].filter((name) => headUnexpected.has(name) || head.ownsTensorName?.(name) === false));
  }
  return { missing, unexpected: [...unclaimed].filter((name) => !tied.includes(name)) };
}

/** readHfConfigJson validated by the model's `parse` (which names the file in its errors). */
export function readHfConfig<Config>(dir: string, modelName: string, parse: (raw: unknown, source: string) => Config, overrides: Record<string, unknown> = {}): Config {
  const { config, file } = readHfConfigJson(dir, modelName, overrides);
  return parse(config, file);
}

/** The prefix of backbone names in a checkpoint: the base model's (`bert.`) when heads are saved with it, none for a bare backbone (as HF does). */
export function backbonePrefixWith(heads: readonly unknown[], basePrefix: string): string {
  return heads.length > 0 ? `${basePrefix}.` : '';
}

/** What a model's `fromPretrained` takes besides the model's own options. */
export interface HfLoadOptions {
  /** Head modules (already initialised) that take the checkpoint's non-backbone tensors. */
  heads?: ParameterModule[];
  /** Config keys to override after reading config.json (e.g. dropout probabilities). */
  configOverrides?: Record<string, unknown>;
}

/** What a model's `savePretrained` takes. */
export interface HfSaveOptions {
  /** Head modules saved with the backbone; backbone names then get the model's base prefix (`bert.`, `transformer.`). */
  heads?: CheckpointHead[];
  /** Extra config.json keys (override inferred ones such as `architectures`). */
  config?: Record<string, unknown>;
}

export interface SaveCheckpointOptions {
  /** Head modules saved with the backbone. */
  heads?: CheckpointHead[];
  /** Prepended to every backbone name (`bert.`, `transformer.`, or '' for a bare backbone). */
  backbonePrefix: string;
  /** Names tied to another tensor besides those the modules declare (`hfHead.tiedNames`): never written. */
  tiedNames?: readonly string[];
  /**
   * config.json `architectures` entry from the names of the tensors being written; by default the
   * modules' declarations decide (see checkpointArchitecture), which needs the backbone's `info`.
   */
  architecture?: (names: string[]) => string;
  /** Extra config.json keys (override inferred ones such as `architectures`). */
  config?: Record<string, unknown>;
}

/** The names HF ties (never written, never missing or unexpected): the modules' declarations plus `extra`. */
export function tiedNamesOf(modules: readonly ParameterModule[], extra: readonly string[] = []): string[] {
  return [...new Set([...extra, ...modules.flatMap((m) => m.hfHead?.tiedNames ?? [])])];
}

/**
 * The HF class of a checkpoint holding this backbone and these heads, from what they declare (the
 * model packages hold no head names): objectives' `hfArchitecture` combined (MLM + NSP =
 * BertForPreTraining); else the one `hfHead.suffix` the heads declare after the backbone's stem
 * (`Bert` + `ForSequenceClassification`); else the bare backbone's class (`BertModel`). `withoutBackbone`
 * lists the backbone name prefixes that class lacks.
 */
export function checkpointArchitecture(info: BackboneInfo, heads: readonly ParameterModule[]): HfClass {
  const objectives = heads.filter((h): h is ParameterModule & ObjectivePlugin => typeof (h as Partial<ObjectivePlugin>).hfArchitecture === 'function');
  if (objectives.length > 0) {
    const { architecture, withoutBackbone } = objectivesArchitecture(objectives, info);
    return { architecture, withoutBackbone };
  }
  const declared = heads.filter((h) => h.hfHead?.suffix);
  const suffixes = [...new Set(declared.map((h) => h.hfHead!.suffix!))];
  const base = baseArchitectureOf(info);
  if (suffixes.length !== 1) return { architecture: base };
  const withoutBackbone = [...new Set(declared.flatMap((h) => h.hfHead?.withoutBackbone ?? []))];
  return { architecture: `${base.replace(/Model$/, '')}${suffixes[0]}`, withoutBackbone: withoutBackbone.length > 0 ? withoutBackbone : undefined };
}

/**
 * Writes a backbone and its heads as `config.json` (keys sorted, as HF writes them) and
 * `model.safetensors`, both atomically, in HF layout. Two modules providing the same tensor is an error.
 */
export function saveHfCheckpoint(backbone: CheckpointHead & { configJSON(): Record<string, unknown>; info?: BackboneInfo }, dir: string, options: SaveCheckpointOptions): void {
  const heads = options.heads ?? [];
  const tied = tiedNamesOf([backbone, ...heads], options.tiedNames);
  let declared: HfClass | undefined;
  if (!options.architecture) {
    if (!backbone.info) throw new PretrainError('savePretrained: the backbone has no info to name its HF class by; pass options.architecture');
    declared = checkpointArchitecture(backbone.info, heads);
  }
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const [name, tensor] of backbone.stateDict()) tensors.set(`${options.backbonePrefix}${name}`, tensor);
    let headConfig: Record<string, unknown> = {};
    for (const head of heads) {
      for (const [name, tensor] of head.stateDict()) {
        const isTied = tied.includes(name);
        if (isTied || tensors.has(name)) {
          tensor.dispose();
          if (!isTied) throw new PretrainError(`savePretrained: two modules both provide tensor "${name}"`);
          continue;
        }
        tensors.set(name, tensor);
      }
      headConfig = { ...headConfig, ...(head.configJSON?.() ?? {}) };
    }
    const architecture = options.architecture ? options.architecture([...tensors.keys()]) : declared!.architecture;
    const config = { ...backbone.configJSON(), architectures: [architecture], ...headConfig, ...(options.config ?? {}) };
    // The backbone prefixes the inferred class lacks (BertForMaskedLM: the pooler), unless a head or the caller named another class.
    const absent = String((config.architectures as unknown[] | undefined)?.[0]) === declared?.architecture ? (declared.withoutBackbone ?? []).map((prefix) => `${options.backbonePrefix}${prefix}`) : [];
    for (const [name, tensor] of tensors) {
      if (!absent.some((prefix) => name.startsWith(prefix))) continue;
      tensor.dispose();
      tensors.delete(name);
    }
    fs.mkdirSync(dir, { recursive: true });
    writeSafetensors(path.join(dir, HF_WEIGHTS_FILE), tensors, { format: 'pt' });
    writeJsonAtomic(path.join(dir, HF_CONFIG_FILE), sortConfigKeys(config));
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
}

/** HF writes config keys sorted; so do we, for byte-comparable files. */
export function sortConfigKeys(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Resource limits checked before memory is allocated: a model's parameter memory, and a pretrained
 * model's config.json against its safetensors header (so a wrong config never sizes an allocation).
 */
import { PretrainError } from './errors';
import { readSafetensorsHeader } from './safetensors';
import { checkpointWeightFiles } from './checkpoint';

/** Parameter memory (float32) a model may have unless PRETRAIN_MAX_PARAMETER_GB raises it. */
export const DEFAULT_MAX_PARAMETER_GB = 2;
export const MAX_PARAMETER_GB_ENV = 'PRETRAIN_MAX_PARAMETER_GB';

const GIB = 1024 ** 3;

/** The limit in bytes: PRETRAIN_MAX_PARAMETER_GB (GiB, may be fractional) or the default. */
export function maxParameterBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MAX_PARAMETER_GB_ENV];
  if (raw === undefined || raw === '') return DEFAULT_MAX_PARAMETER_GB * GIB;
  const gb = Number(raw);
  if (!(Number.isFinite(gb) && gb > 0)) throw new PretrainError(`${MAX_PARAMETER_GB_ENV}=${raw}: expected a positive number of GiB, e.g. ${MAX_PARAMETER_GB_ENV}=8`);
  return gb * GIB;
}

export interface ShapedParameter {
  name: string;
  shape: number[];
}

/** Refuses a model whose float32 parameters exceed maxParameterBytes(), naming the largest tensor. */
export function checkParameterMemory(model: string, parameters: ShapedParameter[], env: NodeJS.ProcessEnv = process.env): void {
  const limit = maxParameterBytes(env);
  let elements = 0;
  let largest: ShapedParameter | undefined;
  let largestSize = -1;
  for (const p of parameters) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    elements += size;
    if (size > largestSize) [largest, largestSize] = [p, size];
  }
  const bytes = elements * 4;
  if (bytes <= limit) return;
  throw new PretrainError(
    `${model}: ${elements.toLocaleString('en-US')} parameters need ${formatGiB(bytes)} GiB of float32 memory, over the ${formatGiB(limit)} GiB limit ` +
      `(largest: ${largest!.name} [${largest!.shape.join(', ')}]). Check the sizes in the config; if the model really is this big, raise the limit with ${MAX_PARAMETER_GB_ENV}=<GiB>`,
  );
}

function formatGiB(bytes: number): string {
  return (bytes / GIB).toFixed(2);
}

/**
 * Compares the shapes a config.json implies with the safetensors header, before the model is built:
 * a config that disagrees with its weights is named, never allocated. `toParameterName` maps a
 * checkpoint name to the model's (prefix stripped, legacy names renamed); other names are ignored.
 */
export function checkHeaderShapes(dir: string, expected: ShapedParameter[], toParameterName: (checkpointName: string) => string): void {
  const shapes = new Map(expected.map((p) => [p.name, p.shape]));
  // Every weights file: model.safetensors, or each shard a model.safetensors.index.json names.
  for (const file of checkpointWeightFiles(dir)) {
    for (const [name, { shape }] of readSafetensorsHeader(file).tensors) {
      const wanted = shapes.get(toParameterName(name));
      if (!wanted || (wanted.length === shape.length && wanted.every((d, i) => d === shape[i]))) continue;
      throw new PretrainError(`${file}: tensor "${name}" has shape [${shape.join(', ')}] but config.json implies [${wanted.join(', ')}]: the config and the weights disagree`, { file, path: name });
    }
  }
}

import * as fs from 'fs';
import * as path from 'path';
import type * as tf from '@tensorflow/tfjs-core';
import { PluginRef, PretrainError, readCheckpointTensors, stripPrefix, writeJsonAtomic } from '@pretrain/core';
import type { Trainer } from '@pretrain/trainer';

/** Written next to the HF files so `finetune --from`, `evaluate`, `predict` and `generate` rebuild the same plugins. */
export const PLUGINS_FILE = 'pretrain_plugins.json';

export interface SavedPluginRefs {
  model: PluginRef;
  head?: PluginRef;
  /** Label names in id order (fine-tuned classifiers and taggers): the run's one list, also the HF id2label. */
  labels?: string[];
  /** How the task encodes its inputs (maxLength, QA stride...), so evaluate / predict do what training did. */
  task?: { task: string; maxLength: number; stride?: number; nBest?: number; maxAnswerLength?: number; labels?: string[] };
}

/**
 * The final model of a run as an HF-layout folder: config.json, model.safetensors (backbone names with
 * the base prefix, e.g. `bert.embeddings...`, plus head names), tokenizer.json, and the plugin refs.
 */
export function saveFinalModel(dir: string, trainer: Trainer, refs: SavedPluginRefs): string {
  trainer.saveModel(dir);
  writeJsonAtomic(path.join(dir, PLUGINS_FILE), refs);
  return dir;
}

/**
 * The backbone's tensors of a checkpoint folder, names without the base prefix (`bert.` → ``), ready
 * for `loadStateDict`; the head tensors are disposed.
 */
export function readBackboneTensors(dir: string, basePrefix: string): Map<string, tf.Tensor> {
  const state = new Map<string, tf.Tensor>();
  for (const [name, tensor] of readCheckpointTensors(dir)) {
    if (name.startsWith(`${basePrefix}.`)) state.set(stripPrefix(name, basePrefix), tensor);
    else tensor.dispose();
  }
  return state;
}

/** HF config.json of a checkpoint folder, with a clear error when the folder is not one. */
export function readCheckpointConfig(dir: string): Record<string, unknown> {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(dir)) throw new PretrainError(`Checkpoint ${dir} does not exist`, { file: dir });
  if (!fs.existsSync(file)) throw new PretrainError(`Checkpoint ${dir} has no config.json (is it a checkpoint folder?)`, { file });
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new PretrainError(`Invalid JSON in ${file}: ${(error as Error).message}`, { file });
  }
}

export function readPluginRefs(dir: string): SavedPluginRefs {
  readCheckpointConfig(dir);
  const file = path.join(dir, PLUGINS_FILE);
  if (!fs.existsSync(file)) {
    throw new PretrainError(`Checkpoint ${dir} has no ${PLUGINS_FILE}: it was not written by the pretrain CLI (use an HF checkpoint through a config: model.options.pretrained)`, { file });
  }
  let refs: SavedPluginRefs;
  try {
    refs = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedPluginRefs;
  } catch (error) {
    throw new PretrainError(`Invalid JSON in ${file}: ${(error as Error).message}`, { file });
  }
  if (typeof refs?.model?.name !== 'string') throw new PretrainError(`${file} does not name the model plugin (model.name)`, { file, path: 'model.name' });
  if (refs.head !== undefined && typeof refs.head?.name !== 'string') throw new PretrainError(`${file}: head.name must be a string`, { file, path: 'head.name' });
  if (refs.labels !== undefined && !(Array.isArray(refs.labels) && refs.labels.every((l) => typeof l === 'string'))) {
    throw new PretrainError(`${file}: labels must be a list of strings`, { file, path: 'labels' });
  }
  return refs;
}

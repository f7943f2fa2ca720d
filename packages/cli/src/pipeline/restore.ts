import * as fs from 'fs';
import * as path from 'path';
import { BackbonePlugin, PluginRef, PretrainError, TaskHeadPlugin, TokenizerPlugin, defaultRegistry, initBackend, Rng } from '@pretrain/core';
import { registerBuiltins } from '../builtins';
import { loadCheckpointWeights, readCheckpointConfig } from './checkpoint';
import { loadTokenizerFile } from './tokenizers';

/** What the CLI records in trainer_state.json so a checkpoint can be rebuilt with the same plugins. */
export interface SavedPluginRefs {
  model: PluginRef;
  head?: PluginRef;
  labels?: string[];
}

export function savedRefs(dir: string): SavedPluginRefs {
  readCheckpointConfig(dir);
  const file = path.join(dir, 'trainer_state.json');
  if (!fs.existsSync(file)) throw new PretrainError(`Checkpoint ${dir} has no trainer_state.json: it was not written by pretrain (load HF checkpoints through a config's model options)`, { file });
  const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { pretrain?: SavedPluginRefs };
  if (!state.pretrain?.model) throw new PretrainError(`${file} does not name the model plugin`, { file });
  return state.pretrain;
}

export interface RestoredModel {
  backbone: BackbonePlugin;
  head?: TaskHeadPlugin;
  tokenizer: TokenizerPlugin;
  refs: SavedPluginRefs;
}

/** Rebuilds backbone (+ head) from a checkpoint folder written by `pretrain pretrain` / `finetune`. */
export async function restoreCheckpoint(dir: string, options: { withHead: boolean; seed?: number; log?: (line: string) => void }): Promise<RestoredModel> {
  const refs = savedRefs(dir);
  registerBuiltins(defaultRegistry);
  await initBackend({ logger: options.log });
  const context = { baseDir: dir, seed: options.seed ?? 0 };
  const modelDefinition = await defaultRegistry.resolve('model', refs.model.name, { fromDir: dir });
  const backbone = await modelDefinition.create(modelDefinition.options.parse(refs.model.options ?? {}), context);
  let head: TaskHeadPlugin | undefined;
  if (options.withHead) {
    if (!refs.head) throw new PretrainError(`Checkpoint ${dir} has no task head (it is a pre-training checkpoint; fine-tune it first)`, { file: dir });
    const headDefinition = await defaultRegistry.resolve('head', refs.head.name, { fromDir: dir });
    head = await headDefinition.create(headDefinition.options.parse(refs.head.options ?? {}), context);
    head.init({ backbone, rng: new Rng(context.seed) });
  }
  const report = loadCheckpointWeights(dir, backbone, head ? [head] : []);
  if (report.missing.length > 0) throw new PretrainError(`Checkpoint ${dir} lacks ${report.missing.length} parameters (e.g. ${report.missing.slice(0, 3).join(', ')})`, { file: dir });
  return { backbone, head, tokenizer: loadTokenizerFile(dir), refs };
}

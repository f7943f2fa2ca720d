import * as path from 'path';
import { BackbonePlugin, PretrainError, TaskHeadPlugin, TokenizerPlugin, defaultRegistry, initBackend, parseWithPath } from '@pretrain/core';
import { Trainer, checkVocabularyFits, loadModel } from '@pretrain/trainer';
import { loadTokenizer } from '@pretrain/tokenizer';
import { registerBuiltins } from '../builtins';
import { cliBackendChoice } from './backend';
import { PLUGINS_FILE, SavedPluginRefs, readPluginRefs } from './checkpoint';
import { checkLoadReport } from './hf-folder';

export interface RestoredModel {
  backbone: BackbonePlugin;
  head?: TaskHeadPlugin;
  tokenizer: TokenizerPlugin;
  refs: SavedPluginRefs;
  /** A trainer around the restored modules (predict / evaluate). */
  trainer?: Trainer;
}

/** Rebuilds backbone (+ head) from a checkpoint folder written by `pretrain pretrain` / `finetune`. */
export async function restoreCheckpoint(dir: string, options: { withHead: boolean; seed?: number; log?: (line: string) => void }): Promise<RestoredModel> {
  const refs = readPluginRefs(dir);
  registerBuiltins(defaultRegistry);
  await initBackend({ logger: options.log, ...cliBackendChoice() });
  const context = { baseDir: dir, seed: options.seed ?? 0 };
  const refsFile = path.join(dir, PLUGINS_FILE);
  const modelDefinition = await defaultRegistry.resolve('model', refs.model.name, { fromData: refsFile });
  const backbone = await modelDefinition.create(parseWithPath(modelDefinition.options, refs.model.options ?? {}, 'model.options', refsFile), context);
  const tokenizer = loadTokenizer(dir);
  try {
    checkVocabularyFits(backbone, tokenizer);
  } catch (error) {
    throw new PretrainError(`Checkpoint ${dir}: ${(error as Error).message}`, { file: dir });
  }
  if (!options.withHead) {
    loadBackboneOnly(dir, backbone, options.log);
    return { backbone, tokenizer, refs };
  }
  if (!refs.head) throw new PretrainError(`Checkpoint ${dir} has no task head (it is a pre-training checkpoint; fine-tune it first)`, { file: dir });
  const headDefinition = await defaultRegistry.resolve('head', refs.head.name, { fromData: refsFile });
  const head = await headDefinition.create(parseWithPath(headDefinition.options, refs.head.options ?? {}, 'head.options', refsFile), context);
  const trainer = new Trainer({ backbone, head, tokenizer, seed: context.seed, options: { progress: 'none' } });
  const report = trainer.loadModel(dir);
  if (report.missing.length > 0) throw new PretrainError(`Checkpoint ${dir} lacks ${report.missing.length} parameters (e.g. ${report.missing.slice(0, 3).join(', ')})`, { file: dir });
  return { backbone, head, tokenizer, refs, trainer };
}

/** Loads only the backbone's tensors (a pre-training checkpoint's objective heads are not needed downstream). */
export function loadBackboneOnly(dir: string, backbone: BackbonePlugin, log: (line: string) => void = () => undefined): void {
  const report = loadModel(dir, { backbone, heads: [], configJSON: () => backbone.configJSON() });
  checkLoadReport(dir, { missing: report.missing, unexpected: [] }, log);
}

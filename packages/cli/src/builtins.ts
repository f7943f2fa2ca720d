import { PluginDefinition, PluginModuleExports, Registry, defaultRegistry } from '@pretrain/core';
import * as corpus from '@pretrain/corpus';
import * as heads from '@pretrain/heads';
import * as modelBert from '@pretrain/model-bert';
import * as modelGpt from '@pretrain/model-gpt';
import * as objectiveClm from '@pretrain/objective-clm';
import * as objectiveContextBow from '@pretrain/objective-context-bow';
import * as objectiveElectra from '@pretrain/objective-electra';
import * as objectiveMlm from '@pretrain/objective-mlm';
import * as objectiveNsp from '@pretrain/objective-nsp';
import * as objectiveSop from '@pretrain/objective-sop';
import * as objectiveStatedScore from '@pretrain/objective-stated-score';
import * as tokenizer from '@pretrain/tokenizer';
import * as trainer from '@pretrain/trainer';

/** Every built-in package, by npm name: the CLI is the one package allowed to depend on all of them. */
export const BUILTIN_PACKAGES: Record<string, PluginModuleExports> = {
  '@pretrain/tokenizer': tokenizer as PluginModuleExports,
  '@pretrain/corpus': corpus as PluginModuleExports,
  '@pretrain/model-bert': modelBert as PluginModuleExports,
  '@pretrain/model-gpt': modelGpt as PluginModuleExports,
  '@pretrain/objective-mlm': objectiveMlm as PluginModuleExports,
  '@pretrain/objective-nsp': objectiveNsp as PluginModuleExports,
  '@pretrain/objective-clm': objectiveClm as PluginModuleExports,
  '@pretrain/objective-sop': objectiveSop as PluginModuleExports,
  '@pretrain/objective-electra': objectiveElectra as PluginModuleExports,
  '@pretrain/objective-context-bow': objectiveContextBow as PluginModuleExports,
  '@pretrain/objective-stated-score': objectiveStatedScore as PluginModuleExports,
  '@pretrain/heads': heads as PluginModuleExports,
  '@pretrain/trainer': trainer as PluginModuleExports,
};

const registered = new WeakSet<Registry>();

/**
 * Registers every built-in plugin under its short name (and its package name as an alias), once per
 * registry. Third-party plugins are loaded later, on demand, by Registry.resolve.
 */
export function registerBuiltins(registry: Registry = defaultRegistry): Registry {
  if (registered.has(registry)) return registry;
  registered.add(registry);
  for (const [packageName, moduleExports] of Object.entries(BUILTIN_PACKAGES)) {
    for (const definition of (moduleExports.pretrainPlugins ?? []) as PluginDefinition[]) {
      if (!registry.lookup(definition.kind, definition.name)) registry.register(definition, packageName);
    }
  }
  return registry;
}

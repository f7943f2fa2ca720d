import * as path from 'path';
import {
  BackbonePlugin,
  ConfigError,
  TokenizerPlugin,
  ExperimentConfig,
  PluginCreateContext,
  PluginKind,
  PluginKinds,
  ResolvedExperiment,
  ResolvedPlugin,
  defaultRegistry,
  initBackend,
  resolveExperiment,
} from '@pretrain/core';
import { checkVocabularyFits } from '@pretrain/trainer';
import { registerBuiltins } from '../builtins';
import { CommandContext, stringOption } from '../command';
import { RawConfig, applyOverrides, readConfigFile } from '../config-file';
import { RunDir } from '../run-dir';
import { DataSettings, TrainerOptions, parseDataSettings, parseTrainerSettings } from './settings';

export interface Experiment {
  /** Config file path as given (for error messages). */
  file: string;
  /** Relative paths in the config resolve against the config file's folder. */
  baseDir: string;
  config: ExperimentConfig;
  resolved: ResolvedExperiment;
  /** The trainer section with defaults; outputDir defaults to the run folder. */
  trainer: TrainerOptions;
  data: DataSettings;
  runDir: RunDir;
  /** The config as written (with --set applied), before defaults: what the user set explicitly. */
  raw: RawConfig;
}

/**
 * Reads the config (`--config`), applies `--set` overrides (and `defaults` underneath), validates
 * every section and plugin before any work starts, and creates the run folder with the resolved config.
 */
export async function loadExperiment(context: CommandContext, commandName: string, defaults: RawConfig = {}): Promise<Experiment> {
  const configPath = stringOption(context.options, 'config');
  const overrides = (context.options.set as string[] | undefined) ?? [];
  const fromFile = configPath ? readConfigFile(path.resolve(context.io.cwd, configPath)) : {};
  if (!configPath && overrides.length === 0 && Object.keys(defaults).length === 0) {
    throw new ConfigError([`no config: pass --config FILE (JSON or YAML), see pretrain ${commandName} --help`]);
  }
  const raw = applyOverrides(deepMerge(defaults, fromFile), overrides);
  const file = configPath ?? '(command line)';
  const baseDir = configPath ? path.dirname(path.resolve(context.io.cwd, configPath)) : context.io.cwd;
  const { trainer: rawTrainer, data: rawData, ...experimentPart } = raw;
  const trainer = parseTrainerSettings(rawTrainer, file);
  const data = parseDataSettings(rawData, file);
  registerBuiltins(defaultRegistry);
  const resolved = await resolveExperiment({ ...experimentPart, trainer: {}, data: rawData ?? undefined }, defaultRegistry, {
    file: configPath ? path.resolve(context.io.cwd, configPath) : undefined,
    baseDir,
  });
  const runDir = RunDir.create({
    out: stringOption(context.options, 'out'),
    configOutputDir: resolved.config.outputDir,
    name: resolved.config.name ?? commandName,
    cwd: context.io.cwd,
    baseDir,
  });
  trainer.outputDir = trainer.outputDir ? path.resolve(baseDir, trainer.outputDir) : runDir.dir;
  if (typeof trainer.resume === 'string') trainer.resume = path.resolve(baseDir, trainer.resume);
  runDir.writeJson('config.json', resolvedConfigJSON(resolved, trainer, data));
  await initBackend({ logger: context.log });
  return { file, baseDir, config: resolved.config, resolved, trainer, data, runDir, raw };
}

/** The config as it ran: every plugin's options with defaults filled in. */
export function resolvedConfigJSON(resolved: ResolvedExperiment, trainer: TrainerOptions, data: DataSettings): Record<string, unknown> {
  const ref = (p?: ResolvedPlugin) => (p ? { name: p.definition.name, options: p.options } : undefined);
  return {
    ...resolved.config,
    tokenizer: ref(resolved.tokenizer),
    corpus: ref(resolved.corpus),
    model: ref(resolved.model),
    objectives: resolved.objectives.map((o) => ({ ...ref(o), weight: o.weight })),
    head: ref(resolved.head),
    callbacks: resolved.callbacks.map(ref),
    trainer,
    data,
  };
}

export async function createPlugin<K extends PluginKind>(plugin: ResolvedPlugin<K>, experiment: Pick<Experiment, 'baseDir' | 'config'>): Promise<PluginKinds[K]> {
  const context: PluginCreateContext = { baseDir: experiment.baseDir, seed: experiment.config.seed };
  return plugin.definition.create(plugin.options as never, context) as Promise<PluginKinds[K]>;
}

export async function createBackbone(experiment: Experiment): Promise<BackbonePlugin> {
  return createPlugin(experiment.resolved.model, experiment);
}

/**
 * A freshly initialised backbone whose vocabulary size and special-token ids come from the tokenizer
 * unless the config sets them (bert: padTokenId; gpt2: bosTokenId / eosTokenId). A config vocabSize
 * smaller than the tokenizer's is a config error, before anything runs. Returns the options used (for
 * the checkpoint's plugin refs).
 */
export async function createBackboneFor(experiment: Pick<Experiment, 'resolved' | 'baseDir' | 'config'>, tokenizer: TokenizerPlugin): Promise<{ backbone: BackbonePlugin; options: Record<string, unknown> }> {
  const model = experiment.resolved.model;
  const options: Record<string, unknown> = { ...(model.options as Record<string, unknown>) };
  if (!options.pretrained && (model.definition.name === 'bert' || model.definition.name === 'gpt2')) {
    const special = tokenizer.specialTokenIds();
    const fromTokenizer: Record<string, number | undefined> =
      model.definition.name === 'gpt2' ? { vocabSize: tokenizer.getVocabSize(), bosTokenId: special.bos ?? special.eos, eosTokenId: special.eos ?? special.bos } : { vocabSize: tokenizer.getVocabSize(), padTokenId: special.pad };
    for (const [key, value] of Object.entries(fromTokenizer)) if (options[key] === undefined && value !== undefined) options[key] = value;
    const vocabSize = options.vocabSize as number;
    // The message of the trainer's own check (the same words whether the model came from the config or a checkpoint).
    checkVocabularyFits({ info: { vocabSize } as BackbonePlugin['info'] }, tokenizer);
    const issues: string[] = [];
    for (const key of ['bosTokenId', 'eosTokenId', 'padTokenId']) {
      const id = options[key];
      if (typeof id === 'number' && id >= vocabSize) issues.push(`model.options.${key}: ${id} is not below vocabSize ${vocabSize} (remove it to take the tokenizer's id)`);
    }
    if (issues.length > 0) throw new ConfigError(issues);
  }
  const context: PluginCreateContext = { baseDir: experiment.baseDir, seed: experiment.config.seed };
  const backbone = (await model.definition.create(options as never, context)) as BackbonePlugin;
  return { backbone, options };
}

function deepMerge(base: RawConfig, over: RawConfig): RawConfig {
  const out: RawConfig = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
        ? deepMerge(current as RawConfig, value as RawConfig)
        : value;
  }
  return out;
}

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
  backendConfigSchema,
  defaultRegistry,
  experimentConfigSchema,
  initBackend,
  parseWithPath,
  resolveExperiment,
} from '@pretrain/core';
import { checkVocabularyFits, trainerOptionsSchema } from '@pretrain/trainer';
import { registerBuiltins } from '../builtins';
import { CommandContext, stringOption } from '../command';
import { RawConfig, applyOverrides, readConfigFile } from '../config-file';
import { RunDir } from '../run-dir';
import { DataSettings, LabeledFile, TrainerOptions, dataSchema, labeledFileSchema, parseDataSettings, parseTrainerSettings } from './settings';
import { cliBackendChoice } from './backend';
import { didYouMean } from './suggest';

export { cliBackendChoice } from './backend';

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
  // Every section is checked before reporting, so one run lists every problem of the file.
  const issues: string[] = [];
  const collect = async <T>(check: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await check();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
      return undefined;
    }
  };
  const trainer = await collect(() => parseTrainerSettings(rawTrainer, file));
  const data = await collect(() => parseDataSettings(rawData, file));
  registerBuiltins(defaultRegistry);
  const resolved = await collect(() =>
    resolveExperiment({ ...experimentPart, trainer: {}, data: rawData ?? undefined }, defaultRegistry, {
      file: configPath ? path.resolve(context.io.cwd, configPath) : undefined,
      baseDir,
    }),
  );
  if (issues.length > 0 || !trainer || !data || !resolved) throw new ConfigError(withSuggestions(issues, raw), file);
  const runDir = RunDir.create({
    out: stringOption(context.options, 'out'),
    configOutputDir: resolved.config.outputDir,
    name: resolved.config.name ?? commandName,
    cwd: context.io.cwd,
    baseDir,
  });
  const userOutputDir = trainer.outputDir !== undefined;
  trainer.outputDir = trainer.outputDir ? path.resolve(baseDir, trainer.outputDir) : runDir.dir;
  if (typeof trainer.resume === 'string') trainer.resume = path.resolve(baseDir, trainer.resume);
  // The run folder's config.json re-runs as it is: paths absolute, and the defaulted output folder left out.
  runDir.writeJson('config.json', resolvedConfigJSON(resolved, userOutputDir ? trainer : { ...trainer, outputDir: undefined }, data, baseDir));
  await initBackend({ logger: context.log, ...cliBackendChoice(resolved.config.backend) });
  return { file, baseDir, config: resolved.config, resolved, trainer, data, runDir, raw };
}

/** initBackend's choice for a config read only in part (corpus commands): its `backend` section, checked; the environment wins. */
export function backendOptionsOf(raw: RawConfig, file?: string): ReturnType<typeof cliBackendChoice> {
  return cliBackendChoice(raw.backend === undefined ? undefined : parseWithPath(backendConfigSchema, raw.backend, 'backend', file));
}

/** The config as it ran: every plugin's options with defaults filled in. */
export function resolvedConfigJSON(resolved: ResolvedExperiment, trainer: TrainerOptions, data: DataSettings, baseDir?: string): Record<string, unknown> {
  const ref = (p?: ResolvedPlugin) => (p ? { name: p.definition.name, options: baseDir ? absolutePathOptions(p.options, baseDir) : p.options } : undefined);
  return {
    ...resolved.config,
    ...(baseDir && resolved.config.outputDir ? { outputDir: path.resolve(baseDir, resolved.config.outputDir) } : {}),
    tokenizer: ref(resolved.tokenizer),
    corpus: ref(resolved.corpus),
    model: ref(resolved.model),
    objectives: resolved.objectives.map((o) => ({ ...ref(o), weight: o.weight })),
    head: ref(resolved.head),
    callbacks: resolved.callbacks.map(ref),
    trainer,
    data: baseDir ? absoluteDataPaths(data, baseDir) : data,
  };
}

/** Plugin options that name files (path, paths, files, pretrained, dir) made absolute against the config's folder. */
function absolutePathOptions(options: unknown, baseDir: string): unknown {
  if (!options || typeof options !== 'object' || Array.isArray(options)) return options;
  const out: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  for (const key of ['path', 'paths', 'file', 'files', 'pretrained', 'dir']) {
    const value = out[key];
    if (typeof value === 'string') out[key] = path.resolve(baseDir, value);
    else if (Array.isArray(value)) out[key] = value.map((v) => (typeof v === 'string' ? path.resolve(baseDir, v) : v));
  }
  return out;
}

/** Data file paths made absolute, so the run folder's config.json re-runs from anywhere. */
function absoluteDataPaths(data: DataSettings, baseDir: string): DataSettings {
  const rebase = (spec: LabeledFile) => ({ ...spec, path: path.resolve(baseDir, spec.path) });
  const split = (specs: LabeledFile | LabeledFile[] | undefined) => (specs === undefined ? undefined : Array.isArray(specs) ? specs.map(rebase) : rebase(specs));
  return { ...data, train: split(data.train), validation: split(data.validation), test: split(data.test) };
}

/** Object keys of a zod schema (through refinements and defaults); empty when it is not an object. */
function schemaKeys(schema: unknown): string[] {
  let node = schema as { shape?: Record<string, unknown>; _zod?: { def?: { shape?: Record<string, unknown>; innerType?: unknown; in?: unknown; schema?: unknown } } } | undefined;
  for (let depth = 0; node && depth < 8; depth++) {
    const shape = node.shape ?? node._zod?.def?.shape;
    if (shape) return Object.keys(shape);
    const def = node._zod?.def;
    node = (def?.innerType ?? def?.in ?? def?.schema) as typeof node;
  }
  return [];
}

/** The schema that validates a config path (for "did you mean" on unknown keys). */
function schemaAt(where: string, raw: RawConfig): unknown {
  if (where === '(root)') return experimentConfigSchema;
  if (where === 'trainer') return trainerOptionsSchema;
  if (where === 'data') return dataSchema;
  if (where === 'backend') return backendConfigSchema;
  if (/^data\.(train|validation|test)(\[\d+\])?$/.test(where)) return labeledFileSchema;
  const plugin = /^(model|tokenizer|corpus|head|objectives\[(\d+)\]|callbacks\[(\d+)\])\.options$/.exec(where);
  if (!plugin) return undefined;
  const section = plugin[1].replace(/\[\d+\]$/, '');
  const kind = ({ model: 'model', tokenizer: 'tokenizer', corpus: 'corpus', head: 'head', objectives: 'objective', callbacks: 'callback' } as const)[section as 'model'];
  const index = plugin[2] ?? plugin[3];
  const ref = (index !== undefined ? (raw[section] as unknown[] | undefined)?.[Number(index)] : raw[section]) as { name?: unknown } | undefined;
  return typeof ref?.name === 'string' ? defaultRegistry.lookup(kind, ref.name)?.options : undefined;
}

/** `trainer: unknown option "learningrate"` gets `; did you mean "learningRate"?` when a known key is close. */
export function withSuggestions(issues: string[], raw: RawConfig): string[] {
  return issues.map((issue) => {
    const match = /^(.*?): unknown options? (.*)$/.exec(issue);
    if (!match) return issue;
    const known = schemaKeys(schemaAt(match[1], raw));
    const hints = [...match[2].matchAll(/"([^"]+)"/g)].map((m) => [m[1], didYouMean(m[1], known)] as const).filter(([, near]) => near !== undefined);
    return hints.length === 0 ? issue : `${issue}; did you mean ${hints.map(([key, near]) => `"${near}" for "${key}"`).join(', ')}?`;
  });
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
      model.definition.name === 'gpt2' ? { vocabSize: tokenizer.getVocabSize(), bosTokenId: special.bos ?? special.eos, eosTokenId: special.eos ?? special.bos, padTokenId: special.pad ?? special.eos } : { vocabSize: tokenizer.getVocabSize(), padTokenId: special.pad };
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

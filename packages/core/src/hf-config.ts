import * as path from 'path';
import { z } from 'zod';
import type { AttentionKind, BackbonePlugin } from './contract';
import { PretrainError } from './errors';
import { definePlugin, type PluginCreateContext, type PluginDefinition } from './registry';

/**
 * Validates an HF config.json object against a model's schema (which fills HF's defaults); `source` names
 * the file or option block in errors, `model` the model ("BERT").
 */
export function parseHfConfig<Config>(schema: z.ZodType, raw: unknown, source: string, model: string): Config {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new PretrainError(`${source}: invalid ${model} config:\n  ${lines.join('\n  ')}`, { file: source });
  }
  return parsed.data as Config;
}

/**
 * A model's one table of option names: camelCase option → the HF config.json key it sets. Options are read
 * through it (either spelling) and config.json is written through it.
 */
export type HfOptionKeys = Readonly<Record<string, string>>;

/** The camelCase options a table allows, typed by the HF config's own field types. */
export type HfConfigOptions<Keys extends HfOptionKeys, Config> = { -readonly [K in keyof Keys]?: Keys[K] extends keyof Config ? Config[Keys[K]] : never };

export interface HfModelOptionsSpec {
  /** The HF config.json schema: each option is validated by its field's schema, without the field's default. */
  configSchema: z.ZodObject;
  keys: HfOptionKeys;
  /** camelCase options that may accompany `pretrained` (HF from_pretrained overrides). */
  pretrainedOverrides: readonly string[];
  /** camelCase names of the width that must split evenly over the attention heads. */
  divisible: { width: string; heads: string };
  /** Options of the plugin that are not HF config keys. */
  extra?: z.ZodRawShape;
}

/**
 * A model plugin's options schema, derived from its HF config schema: `pretrained`, every key of the table
 * under its camelCase name or HF's snake_case one (both at once is an error naming both), and the extra
 * options. The parsed options hold the camelCase names only: `Options` is their type.
 */
export function hfModelOptionsSchema<Options>(spec: HfModelOptionsSpec): z.ZodType<Options> {
  const fields = Object.fromEntries(Object.entries(spec.keys).flatMap(([camel, snake]) => [camel, snake].map((name) => [name, optionalField(spec.configSchema, snake)])));
  return z
    .object({
      /** Directory with config.json + model.safetensors (relative to the experiment config file). */
      pretrained: z.string().min(1).optional(),
      ...fields,
      ...spec.extra,
    })
    .strict()
    .superRefine((options, ctx) => {
      for (const issue of optionIssues(options, spec)) ctx.addIssue({ code: 'custom', ...issue });
    })
    .transform((options) => camelCaseOptions(options, spec.keys) as Options);
}

/** Folds the HF snake_case spellings of a table's keys into their camelCase names. */
export function camelCaseOptions(options: Record<string, unknown>, keys: HfOptionKeys): Record<string, unknown> {
  const folded: Record<string, unknown> = { ...options };
  for (const [camel, snake] of Object.entries(keys)) {
    if (camel === snake || !(snake in folded)) continue;
    if (folded[snake] !== undefined) folded[camel] = folded[snake];
    delete folded[snake];
  }
  return folded;
}

/** HF config.json keys from camelCase options (only the options that were given). */
export function hfConfigFromOptions(options: Record<string, unknown>, keys: HfOptionKeys): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [camel, snake] of Object.entries(keys)) {
    if (options[camel] !== undefined) config[snake] = options[camel];
  }
  return config;
}

function optionalField(configSchema: z.ZodObject, key: string): z.ZodType {
  const field = configSchema.shape[key] as z.ZodType | undefined;
  if (!field) throw new Error(`the HF config schema has no "${key}"`);
  return (field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field).optional();
}

interface OptionIssue {
  path: string[];
  message: string;
}

function optionIssues(options: Record<string, unknown>, spec: HfModelOptionsSpec): OptionIssue[] {
  const issues: OptionIssue[] = [];
  const given = (name: string) => options[name] !== undefined;
  for (const [camel, snake] of Object.entries(spec.keys)) {
    if (camel !== snake && given(camel) && given(snake)) issues.push({ path: [snake], message: `"${camel}" and "${snake}" are the same option; give only one of them` });
    const name = given(camel) ? camel : snake;
    if (options.pretrained && given(name) && !spec.pretrainedOverrides.includes(camel)) {
      issues.push({ path: [name], message: `cannot be combined with "pretrained" (the checkpoint's config.json decides it); only ${spec.pretrainedOverrides.join(', ')} may be overridden` });
    }
  }
  if (!options.pretrained) issues.push(...divisibilityIssues(options, spec));
  return issues;
}

function divisibilityIssues(options: Record<string, unknown>, spec: HfModelOptionsSpec): OptionIssue[] {
  const { width, heads } = spec.divisible;
  const value = (camel: string) => (options[camel] ?? options[spec.keys[camel]] ?? spec.configSchema.parse({})[spec.keys[camel]]) as number;
  const message = headsSplitWidthIssue(width, value(width), heads, value(heads));
  return message ? [{ path: [width], message }] : [];
}

/**
 * The one statement of "the attention heads split the hidden width evenly", for experiment options (camelCase
 * names) and for HF config.json files (snake_case names): undefined when it holds.
 */
export function headsSplitWidthIssue(widthName: string, width: number, headsName: string, heads: number): string | undefined {
  return width % heads === 0 ? undefined : `${widthName} (${width}) is not a multiple of ${headsName} (${heads})`;
}

/** A backbone class built from an HF config (camelCase options that are not config keys ride in `options`) or loaded from an HF folder. */
export interface HfModelClass<Config> {
  new (config: Config, options: { seed: number }): BackbonePlugin;
  fromPretrained(dir: string, options: { seed: number; configOverrides: Record<string, unknown> }): BackbonePlugin;
}

export interface HfModelPluginSpec<Config> extends HfModelOptionsSpec {
  name: string;
  description: string;
  /** The attention every model of the class uses (the config validator matches it against objectives). */
  attention: AttentionKind;
  /** Validates an HF config; `source` names it in errors. */
  parseConfig(raw: unknown, source: string): Config;
}

/**
 * The plugin definition of an HF model class: options from hfModelOptionsSchema; `create` builds the model from
 * its HF config, or loads `pretrained` (relative to the experiment config) with the options as config overrides.
 */
export function hfModelPlugin<Options, Config>(Model: HfModelClass<Config>, spec: HfModelPluginSpec<Config>): PluginDefinition<'model', Options> {
  return definePlugin<'model', Options>({
    kind: 'model',
    name: spec.name,
    description: spec.description,
    options: hfModelOptionsSchema<Options>(spec),
    meta: { attention: spec.attention },
    create: (options, context) => createHfModel(Model, spec, options as Record<string, unknown>, context),
  });
}

function createHfModel<Config>(Model: HfModelClass<Config>, spec: HfModelPluginSpec<Config>, options: Record<string, unknown>, context: PluginCreateContext): BackbonePlugin {
  const { pretrained, ...rest } = options;
  const config = hfConfigFromOptions(rest, spec.keys);
  const modelOptions = { ...withoutKeys(rest, Object.keys(spec.keys)), seed: context.seed };
  if (typeof pretrained === 'string') return Model.fromPretrained(path.resolve(context.baseDir, pretrained), { ...modelOptions, configOverrides: config });
  return new Model(spec.parseConfig(config, 'model.options'), modelOptions);
}

function withoutKeys(options: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([key]) => !keys.includes(key)));
}

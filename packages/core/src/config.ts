import * as path from 'path';
import { z } from 'zod';
import { BACKEND_NAMES, PRECISIONS, type BackendConfig } from './backend';
import type { PluginKind } from './contract';
import { ConfigError, PretrainError } from './errors';
import type { PluginDefinition, Registry } from './registry';

/** `{ name, options }`: a plugin by short name (built-in) or npm package name (third-party). */
export const pluginRefSchema = z
  .object({
    name: z.string().min(1),
    options: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const objectiveRefSchema = pluginRefSchema.extend({ weight: z.number().positive().default(1) }).strict();

/** Where tensors run; PRETRAIN_BACKEND / PRETRAIN_THREADS override it (see backendChoice). */
export const backendConfigSchema: z.ZodType<BackendConfig> = z
  .object({
    name: z.enum(BACKEND_NAMES).optional(),
    /** wasm: XNNPACK threads. */
    threads: z.number().int().positive().optional(),
    /** The products' precision: bfloat16 needs backend native built with oneDNN. */
    precision: z.enum(PRECISIONS).optional(),
  })
  .strict();

/** An experiment as plain data (JSON or YAML). Sections other packages own stay open records here. */
export const experimentConfigSchema = z
  .object({
    name: z.string().optional(),
    seed: z.number().int().nonnegative().default(42),
    outputDir: z.string().optional(),
    tokenizer: pluginRefSchema.optional(),
    corpus: pluginRefSchema.optional(),
    model: pluginRefSchema,
    objectives: z.array(objectiveRefSchema).default([]),
    head: pluginRefSchema.optional(),
    callbacks: z.array(pluginRefSchema).default([]),
    backend: backendConfigSchema.optional(),
    /** Labeled data for fine-tuning / evaluation (read by the CLI through @pretrain/corpus). */
    data: z.record(z.string(), z.unknown()).optional(),
    /** Training loop settings, validated by @pretrain/trainer. */
    trainer: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type PluginRef = z.infer<typeof pluginRefSchema>;
export type ObjectiveRef = z.infer<typeof objectiveRefSchema>;
export type ExperimentConfig = z.infer<typeof experimentConfigSchema>;

export interface ResolvedPlugin<K extends PluginKind = PluginKind> {
  definition: PluginDefinition<K>;
  options: unknown;
  /** Config path of this reference, e.g. "objectives[1]". */
  path: string;
}

export interface ResolvedExperiment {
  config: ExperimentConfig;
  tokenizer?: ResolvedPlugin<'tokenizer'>;
  corpus?: ResolvedPlugin<'corpus'>;
  model: ResolvedPlugin<'model'>;
  objectives: (ResolvedPlugin<'objective'> & { weight: number })[];
  head?: ResolvedPlugin<'head'>;
  callbacks: ResolvedPlugin<'callback'>[];
}

/** Formats one schema issue as `objectives[1].options.maskProb: expected number, received string`. */
export function formatIssue(issue: z.core.$ZodIssue, prefix: (string | number)[] = []): string {
  const where = formatPath([...prefix, ...(issue.path as (string | number)[])]) || '(root)';
  return `${where}: ${describeIssue(issue)}`;
}

export function formatPath(parts: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const received = receivedType(issue);
      return received === 'undefined' ? `required (expected ${issue.expected})` : `expected ${issue.expected}, received ${received}`;
    }
    case 'unrecognized_keys':
      return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    default:
      return issue.message;
  }
}

/** The received type: from the issue's input when reported, else from zod's default message. */
function receivedType(issue: z.core.$ZodIssue): string {
  if ('input' in issue) return typeName(issue.input);
  return /received (\w+)/.exec(issue.message)?.[1] ?? 'undefined';
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** zod 4 leaves the offending value out of issues unless asked; messages say what was received. */
const REPORT_INPUT = { reportInput: true } as const;

/** Parses `value` with `schema`, throwing a ConfigError whose lines start with `configPath`. */
export function parseWithPath<T>(schema: z.ZodType<T>, value: unknown, configPath: string, file?: string): T {
  const result = schema.safeParse(value, REPORT_INPUT);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((i) => formatIssue(i, configPath ? [configPath] : [])), file);
}

/**
 * Validates an experiment before any work starts: structure, plugin names (loading third-party
 * packages), each plugin's options, and objective combinations. All problems are reported at once.
 */
export async function resolveExperiment(raw: unknown, registry: Registry, options: { file?: string; baseDir?: string } = {}): Promise<ResolvedExperiment> {
  const parsed = experimentConfigSchema.safeParse(raw, REPORT_INPUT);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => formatIssue(i)), options.file);
  const config = parsed.data;
  const fromDir = options.baseDir ?? (options.file ? path.dirname(options.file) : process.cwd());
  const issues: string[] = [];

  async function resolveRef<K extends PluginKind>(kind: K, ref: PluginRef, refPath: string): Promise<ResolvedPlugin<K> | undefined> {
    let definition: PluginDefinition<K>;
    try {
      definition = await registry.resolve(kind, ref.name, { fromDir, configPath: `${refPath}.name` });
    } catch (error) {
      issues.push(error instanceof PretrainError ? error.message : `${refPath}.name: ${(error as Error).message}`);
      return undefined;
    }
    const result = definition.options.safeParse(ref.options ?? {}, REPORT_INPUT);
    if (!result.success) {
      for (const issue of result.error.issues) issues.push(formatIssue(issue, [...pathParts(refPath), 'options']));
      return undefined;
    }
    return { definition, options: result.data, path: refPath };
  }

  const model = await resolveRef('model', config.model, 'model');
  const tokenizer = config.tokenizer && (await resolveRef('tokenizer', config.tokenizer, 'tokenizer'));
  const corpus = config.corpus && (await resolveRef('corpus', config.corpus, 'corpus'));
  const head = config.head && (await resolveRef('head', config.head, 'head'));
  const objectives: ResolvedExperiment['objectives'] = [];
  for (const [i, ref] of config.objectives.entries()) {
    const resolved = await resolveRef('objective', ref, `objectives[${i}]`);
    if (resolved) objectives.push({ ...resolved, weight: ref.weight });
  }
  const callbacks: ResolvedPlugin<'callback'>[] = [];
  for (const [i, ref] of config.callbacks.entries()) {
    const resolved = await resolveRef('callback', ref, `callbacks[${i}]`);
    if (resolved) callbacks.push(resolved);
  }

  if (issues.length === 0) issues.push(...combinationIssues(model, objectives, head));
  if (issues.length > 0) throw new ConfigError(issues, options.file);
  return { config, model: model!, tokenizer, corpus, objectives, head, callbacks };
}

function pathParts(refPath: string): (string | number)[] {
  return refPath.split(/\.|\[|\]/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** Objective combinations that cannot train: checked on plugin metadata, before anything is built. */
export function combinationIssues(model: ResolvedPlugin<'model'> | undefined, objectives: ResolvedPlugin<'objective'>[], head?: ResolvedPlugin<'head'>): string[] {
  const issues: string[] = [];
  const attention = model?.definition.meta?.attention;
  for (const objective of objectives) {
    const needs = objective.definition.meta?.requiresAttention;
    if (needs && attention && needs !== attention) {
      issues.push(`${objective.path}.name: objective "${objective.definition.name}" needs a ${needs} model, but model "${model!.definition.name}" is ${attention}`);
    }
  }
  const builders = objectives.filter((o) => {
    const builds = o.definition.meta?.buildsExamples;
    return typeof builds === 'function' ? builds(o.options) : Boolean(builds);
  });
  // A fine-tuning head brings its own examples; objectives beside it need not build any.
  const builderIssue = objectives.length > 0 && (builders.length > 0 || !head) ? exampleBuilderIssue(objectives.map((o) => o.definition.name), builders.map((b) => `${b.path} (${b.definition.name})`)) : undefined;
  if (builderIssue) issues.push(`objectives: ${builderIssue}`);
  return issues;
}

/**
 * The one rule for pre-training on documents — exactly one objective turns them into examples — as the config
 * check, the trainer and `corpus export` word it: undefined when it holds.
 */
export function exampleBuilderIssue(objectives: readonly string[], builders: readonly string[]): string | undefined {
  if (builders.length > 1) return `exactly one objective may build examples, but ${builders.join(' and ')} ${builders.length === 2 ? 'both' : 'all'} do`;
  if (builders.length === 0) {
    return objectives.length > 0 ? `none of ${objectives.join(', ')} builds examples; add one that does (e.g. nsp, clm) or enable the example builder option of one` : 'no objective given: one must build examples (e.g. nsp, clm)';
  }
  return undefined;
}

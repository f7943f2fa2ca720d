import type { z } from 'zod';
import type { AttentionKind, BackbonePlugin, ObjectivePlugin, TaskHeadPlugin } from './contract';
import { objectivePath, PretrainError } from './errors';
import { definePlugin, type PluginDefinition, type PluginMeta } from './registry';

/**
 * An objective class that states its static facts once, as class properties: the plugin meta the
 * config validator checks is read from them (see objectivePlugin), and its instances check the backbone
 * against the same property (see assertBackboneAttention).
 */
export interface ObjectiveClass<O> {
  /** Gets the options already parsed by the plugin's schema: defaults filled, ranges checked. */
  new (options: O): ObjectivePlugin;
  /** The backbone attention every instance needs (absent: any backbone). */
  readonly requiresAttention?: AttentionKind;
  /** Whether an instance with these options makes the examples. */
  readonly buildsExamples: boolean | ((options: O) => boolean);
}

/** What a config names and validates: everything about the plugin that is not a fact of the class. */
export interface PluginAbout<O> {
  name: string;
  description?: string;
  options: z.ZodType<O>;
}

/** `schema.parse` typed for code that builds a plugin directly: partial options in, every default filled in out. */
export function optionsParser<O>(schema: z.ZodType<O>): (options?: Partial<O>) => O {
  return (options = {}) => schema.parse(options);
}

/** The plugin definition of an objective class, its meta derived from the class's own properties. */
export function objectivePlugin<O>(Objective: ObjectiveClass<O>, about: PluginAbout<O>): PluginDefinition<'objective', O> {
  const meta: PluginMeta<O> = { buildsExamples: Objective.buildsExamples };
  if (Objective.requiresAttention) meta.requiresAttention = Objective.requiresAttention;
  return definePlugin<'objective', O>({ kind: 'objective', ...about, meta, create: (options) => new Objective(options) });
}

/**
 * Throws unless the backbone has the attention the objective needs. The config validator checks the
 * same fact on plugin meta; this catches objectives and backbones put together in code.
 */
export function assertBackboneAttention(objective: Pick<ObjectivePlugin, 'name' | 'requiresAttention'>, backbone: BackbonePlugin): void {
  const needed = objective.requiresAttention;
  if (!needed || backbone.info.attention === needed) return;
  throw new PretrainError(`${objective.name}: needs a ${needed} backbone, but "${backbone.info.modelType}" is ${backbone.info.attention}`, { path: objectivePath(objective.name) });
}

/** The plugin definition of a task head class: `create` is `new Head(parsedOptions)`. */
export function headPlugin<O>(Head: new (options: O) => TaskHeadPlugin, about: PluginAbout<O>): PluginDefinition<'head', O> {
  return definePlugin<'head', O>({ kind: 'head', ...about, create: (options) => new Head(options) });
}

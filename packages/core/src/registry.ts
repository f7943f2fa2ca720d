import { createRequire } from 'module';
import * as path from 'path';
import type { z } from 'zod';
import type { AttentionKind, PluginKind, PluginKinds } from './contract';
import { PretrainError } from './errors';

export interface PluginCreateContext {
  /** Directory of the config file; relative paths in options resolve against it. */
  baseDir: string;
  seed: number;
}

/** Static facts the config validator checks before any work starts. */
export interface PluginMeta<O> {
  /** Objectives: whether this objective (with these options) makes the examples. */
  buildsExamples?: boolean | ((options: O) => boolean);
  /** Objectives: the backbone attention it needs (CLM: causal; MLM: bidirectional). */
  requiresAttention?: AttentionKind;
  /** Models: the attention the backbone uses. */
  attention?: AttentionKind;
}

export interface PluginDefinition<K extends PluginKind = PluginKind, O = any> {
  kind: K;
  /** Short name used in configs for built-ins ("mlm"); third-party plugins are named by package. */
  name: string;
  description?: string;
  /** Validates and fills defaults for the config's `options`. */
  options: z.ZodType<O>;
  meta?: PluginMeta<O>;
  create(options: O, context: PluginCreateContext): PluginKinds[K] | Promise<PluginKinds[K]>;
}

export function definePlugin<K extends PluginKind, O>(definition: PluginDefinition<K, O>): PluginDefinition<K, O> {
  return definition;
}

/** What a plugin package exports so the registry can load it by npm name. */
export interface PluginModuleExports {
  pretrainPlugins?: PluginDefinition[];
  default?: PluginDefinition | PluginDefinition[] | { pretrainPlugins?: PluginDefinition[] };
}

export interface ResolveOptions {
  /** Config plugins: the config's folder, searched before Pretrain's own location. */
  fromDir?: string;
  /** The config path of the name, for error messages. */
  configPath?: string;
  /** The data file that names the plugin (a checkpoint's): only installed packages may load. */
  fromData?: string;
}

export class Registry {
  private readonly plugins = new Map<string, PluginDefinition>();
  private readonly packageAliases = new Map<string, string>();

  register(definition: PluginDefinition, packageName?: string): this {
    const key = keyOf(definition.kind, definition.name);
    if (this.plugins.has(key)) throw new PretrainError(`A ${definition.kind} plugin named "${definition.name}" is already registered`);
    this.plugins.set(key, definition);
    if (packageName) this.packageAliases.set(keyOf(definition.kind, packageName), key);
    return this;
  }

  has(kind: PluginKind, name: string): boolean {
    return this.lookup(kind, name) !== undefined;
  }

  /** A registered plugin by short name or by the npm package it was loaded from. */
  lookup<K extends PluginKind>(kind: K, name: string): PluginDefinition<K> | undefined {
    const key = keyOf(kind, name);
    const found = this.plugins.get(key) ?? this.plugins.get(this.packageAliases.get(key) ?? '');
    return found as PluginDefinition<K> | undefined;
  }

  list(kind?: PluginKind): PluginDefinition[] {
    return [...this.plugins.values()].filter((p) => !kind || p.kind === kind);
  }

  /**
   * Finds a plugin, loading it from an npm package when the name is not registered: the package
   * (resolved from `fromDir`, then from Pretrain's own location) must export `pretrainPlugins`.
   * A name read from data (`fromData`, e.g. a checkpoint's pretrain_plugins.json) resolves only from
   * Pretrain's own installation: a downloaded folder must never be able to supply the code it names.
   */
  async resolve<K extends PluginKind>(kind: K, name: string, options: ResolveOptions = {}): Promise<PluginDefinition<K>> {
    const known = this.lookup(kind, name);
    if (known) return known;
    const where = options.configPath ? `${options.configPath}: ` : '';
    if (!looksLikePackageName(name)) {
      throw new PretrainError(`${where}unknown ${kind} plugin "${name}". Known: ${this.names(kind).join(', ') || '(none)'}; third-party plugins are named by npm package`, { path: options.configPath });
    }
    const exports = options.fromData ? loadInstalledPackage(name, kind, options.fromData) : loadPackage(name, options.fromDir ?? process.cwd(), where);
    const definitions = pluginsFrom(exports);
    if (definitions.length === 0) throw new PretrainError(`${where}package "${name}" exports no pretrainPlugins`, { path: options.configPath });
    for (const definition of definitions) {
      if (!this.lookup(definition.kind, definition.name)) this.register(definition, name);
      else this.packageAliases.set(keyOf(definition.kind, name), keyOf(definition.kind, definition.name));
    }
    const loaded = this.lookup(kind, name);
    if (!loaded) throw new PretrainError(`${where}package "${name}" has no ${kind} plugin (it provides: ${definitions.map((d) => `${d.kind} ${d.name}`).join(', ')})`, { path: options.configPath });
    return loaded;
  }

  private names(kind: PluginKind): string[] {
    return this.list(kind).map((p) => p.name);
  }
}

function keyOf(kind: string, name: string): string {
  return `${kind}:${name}`;
}

function looksLikePackageName(name: string): boolean {
  return /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/.test(name) && (name.startsWith('@') || name.includes('-') || name.includes('.'));
}

function loadPackage(name: string, fromDir: string, where: string): PluginModuleExports {
  const searchPaths = [path.resolve(fromDir), __dirname];
  for (const base of searchPaths) {
    let resolved: string | undefined;
    try {
      resolved = createRequire(path.join(base, 'noop.js')).resolve(name);
    } catch {
      continue;
    }
    try {
      return createRequire(path.join(base, 'noop.js'))(resolved) as PluginModuleExports;
    } catch (error) {
      throw new PretrainError(`${where}package "${name}" was found at ${resolved} but failed to load: ${(error as Error).message}`, { cause: error });
    }
  }
  throw new PretrainError(`${where}unknown plugin "${name}": not registered and no npm package of that name is installed (looked from ${searchPaths[0]})`);
}

/** Where Pretrain itself is installed: the running program and this package, never the data's folder. */
function installationDirs(): string[] {
  const main = require.main?.filename;
  return [...new Set([...(main ? [path.dirname(main)] : []), __dirname])];
}

function loadInstalledPackage(name: string, kind: PluginKind, dataFile: string): PluginModuleExports {
  for (const base of installationDirs()) {
    const load = createRequire(path.join(base, 'noop.js'));
    let resolved: string;
    try {
      resolved = load.resolve(name);
    } catch {
      continue;
    }
    try {
      return load(resolved) as PluginModuleExports;
    } catch (error) {
      throw new PretrainError(`${dataFile}: ${kind} plugin package "${name}" is installed at ${resolved} but failed to load: ${(error as Error).message}`, { file: dataFile, cause: error });
    }
  }
  throw new PretrainError(
    `${dataFile} names the ${kind} plugin "${name}", which is not installed. Code runs only from packages you installed, never from a checkpoint's folder: if you trust this plugin, install it next to pretrain (npm install ${name}) and run again`,
    { file: dataFile },
  );
}

function pluginsFrom(exports: PluginModuleExports): PluginDefinition[] {
  if (Array.isArray(exports.pretrainPlugins)) return exports.pretrainPlugins;
  const d = exports.default;
  if (Array.isArray(d)) return d;
  if (d && 'kind' in d && 'create' in d) return [d as PluginDefinition];
  if (d && 'pretrainPlugins' in d && Array.isArray(d.pretrainPlugins)) return d.pretrainPlugins;
  return [];
}

/** The registry the CLI fills with the built-in plugins. */
export const defaultRegistry = new Registry();

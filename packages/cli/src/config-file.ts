import * as fs from 'fs';
import * as path from 'path';
import { PretrainError } from '@pretrain/core';
import { LineCounter, parseDocument } from 'yaml';

/** A plain-data config as read from disk, before schema validation. */
export type RawConfig = Record<string, unknown>;

/** Reads a JSON (`.json`) or YAML (anything else) config; errors name the file and line. */
export function readConfigFile(file: string): RawConfig {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw new PretrainError(`Cannot read config ${file}: ${why}`, { file });
  }
  const value = absolute.endsWith('.json') ? parseJson(text, file) : parseYaml(text, file);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PretrainError(`Invalid config ${file}: the top level must be a mapping of sections (model, objectives, trainer, ...)`, { file });
  }
  return value as RawConfig;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const line = position ? text.slice(0, Number(position[1])).split('\n').length : undefined;
    throw new PretrainError(`Invalid JSON in ${file}${line ? ` at line ${line}` : ''}: ${message}`, { file, line });
  }
}

function parseYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    const line = lineCounter.linePos(first.pos[0]).line;
    throw new PretrainError(`Invalid YAML in ${file} at line ${line}: ${first.message.split('\n')[0]}`, { file, line });
  }
  try {
    // maxAliasCount bounds alias expansion ("billion laughs"); unresolved aliases also surface here.
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new PretrainError(`Invalid YAML in ${file}: ${(error as Error).message}`, { file });
  }
}

/** Path segments that reach Object.prototype instead of a config section. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** Parses `a.b[0].c=value`: the value is JSON when it parses as JSON (numbers, booleans, arrays), else a string. */
export function parseOverride(assignment: string): { path: (string | number)[]; value: unknown } {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new PretrainError(`--set ${assignment}: expected key.path=value, e.g. --set trainer.learningRate=1e-4`);
  const key = assignment.slice(0, eq).trim();
  const rawValue = assignment.slice(eq + 1);
  const parts = key
    .split(/\.|\[|\]/)
    .filter((p) => p !== '')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  if (parts.length === 0) throw new PretrainError(`--set ${assignment}: empty key`);
  const forbidden = parts.find((p) => typeof p === 'string' && FORBIDDEN_SEGMENTS.has(p));
  if (forbidden !== undefined) throw new PretrainError(`--set ${assignment}: "${forbidden}" is not allowed in a key path (it would change every object, not the config)`);
  return { path: parts, value: parseScalar(rawValue) };
}

function parseScalar(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Returns a copy of `config` with each `--set` override applied (creating sections as needed). */
export function applyOverrides(config: RawConfig, assignments: string[]): RawConfig {
  const result = structuredClone(config);
  for (const assignment of assignments) {
    const { path: parts, value } = parseOverride(assignment);
    let node: any = result;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      if (last) {
        node[part] = value;
        return;
      }
      if (!Object.prototype.hasOwnProperty.call(node, part) || node[part] === null) node[part] = typeof parts[i + 1] === 'number' ? [] : {};
      if (typeof node[part] !== 'object') {
        throw new PretrainError(`--set ${assignment}: "${parts.slice(0, i + 1).join('.')}" is a ${typeof node[part]}, not a section`);
      }
      node = node[part];
    });
  }
  return result;
}

import { PretrainError } from '@pretrain/core/lite';

/**
 * A tokenizer.json problem, naming the JSON path at fault (e.g. `normalizer.normalizers[1].type`).
 * A PretrainError from @pretrain/core/lite (counting workers load only the pipeline stages);
 * `Tokenizer.fromFile` rethrows it naming the file.
 */
export class TokenizerJSONError extends PretrainError {
  declare readonly details: { path: string };
  constructor(jsonPath: string, problem: string) {
    super(`tokenizer.json ${jsonPath}: ${problem}`, { path: jsonPath });
    this.name = 'TokenizerJSONError';
  }
}

/**
 * Token ids index embedding rows, so they are bounded (2^24 is far above any real vocabulary and keeps
 * a stray id such as 1e9 from sizing a model).
 */
export const MAX_TOKEN_ID = 1 << 24;

/** Checks one id from tokenizer.json: an integer in [0, MAX_TOKEN_ID). */
export function checkTokenId(id: unknown, jsonPath: string): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new TokenizerJSONError(jsonPath, `expected a non-negative integer id, got ${JSON.stringify(id)}`);
  if (id >= MAX_TOKEN_ID) throw new TokenizerJSONError(jsonPath, `id ${id} is too large (ids must be below ${MAX_TOKEN_ID})`);
  return id;
}


export type JSONObject = Record<string, any>;

export function expectObject(value: unknown, jsonPath: string): JSONObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TokenizerJSONError(jsonPath, `expected an object, got ${describe(value)}`);
  return value as JSONObject;
}

export function expectType(value: unknown, jsonPath: string): { obj: JSONObject; type: string } {
  const obj = expectObject(value, jsonPath);
  if (typeof obj.type !== 'string') throw new TokenizerJSONError(`${jsonPath}.type`, `expected a string, got ${describe(obj.type)}`);
  return { obj, type: obj.type };
}

export function unknownType(jsonPath: string, type: string, known: string[]): never {
  throw new TokenizerJSONError(`${jsonPath}.type`, `unknown type "${type}" (supported: ${known.join(', ')})`);
}

export function optBool(obj: JSONObject, key: string, jsonPath: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new TokenizerJSONError(`${jsonPath}.${key}`, `expected a boolean, got ${describe(v)}`);
  return v;
}

export function optString(obj: JSONObject, key: string, jsonPath: string, fallback: string): string {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new TokenizerJSONError(`${jsonPath}.${key}`, `expected a string, got ${describe(v)}`);
  return v;
}

export function optNumber(obj: JSONObject, key: string, jsonPath: string, fallback: number): number {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TokenizerJSONError(`${jsonPath}.${key}`, `expected a number, got ${describe(v)}`);
  return v;
}

export function expectArray(value: unknown, jsonPath: string): unknown[] {
  if (!Array.isArray(value)) throw new TokenizerJSONError(jsonPath, `expected an array, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

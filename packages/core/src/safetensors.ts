/**
 * safetensors read/write, byte-compatible with HuggingFace's `safetensors` library:
 * [u64 LE header length N][N bytes JSON header, space-padded to 8-byte alignment][tensor bytes].
 *
 * Reading validates the whole header against the file size before allocating any tensor, so a
 * truncated or hostile file produces a clear error and never a giant allocation.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from './atomic';
import { PretrainError } from './errors';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U16' | 'U32' | 'U64' | 'BOOL';

export type SafetensorsData = Float32Array | Float64Array | Int32Array | BigInt64Array | BigUint64Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array;

export interface SafetensorsTensor {
  /** dtype as stored in the file ("F16" data is returned as a Float32Array). */
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

export interface ReadSafetensorsOptions {
  /** Names the data in error messages (file path, URL); readSafetensors sets it to the path. */
  source?: string;
  /**
   * 64-bit integers: 'int32' (default) converts to Int32Array and rejects values outside the
   * int32 range (TF.js has no int64); 'bigint' returns BigInt64Array / BigUint64Array unchanged.
   */
  int64?: 'int32' | 'bigint';
}

/** What a writer accepts: a TF.js tensor, or raw data with the dtype to store it as. */
export type SafetensorsInput = tf.Tensor | { dtype: SafetensorsDtype; shape: number[]; data: ArrayLike<number> | BigInt64Array | BigUint64Array };

/** A safetensors file that cannot be read; `details.file` and `tensor` say where. */
export class SafetensorsError extends PretrainError {
  constructor(
    message: string,
    readonly source: string,
    readonly tensor?: string,
  ) {
    super(`${source}: ${tensor !== undefined ? `tensor "${tensor}": ` : ''}${message}`, { file: source });
    this.name = 'SafetensorsError';
  }
}

/** HF's limit on the header size; anything larger is rejected before it is read. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

/**
 * Tensors one file may hold. Real checkpoints hold thousands; the limit keeps a header of millions of
 * empty tensors from costing gigabytes once parsed. Checked by a scan of the text before JSON.parse.
 */
export const MAX_SAFETENSORS_TENSORS = 100_000;

/** JSON values (objects, arrays, literals) a header may hold: bounds the parsed header's memory. */
export const MAX_SAFETENSORS_HEADER_VALUES = 2_000_000;

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U16: 2, U32: 4, U64: 8, BOOL: 1 };

/**
 * Write order of HF's writer: dtypes sorted by the Rust `Dtype` enum, largest first, then names
 * ascending. Matching it makes our files byte-identical to HF's for the same tensors.
 */
const RUST_DTYPE_ORDER: SafetensorsDtype[] = ['BOOL', 'U8', 'I8', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

interface PlannedTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

interface HeaderPlan {
  metadata: Record<string, string>;
  tensors: PlannedTensor[];
  dataStart: number;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Parses a whole safetensors file held in memory. */
export function parseSafetensors(bytes: Uint8Array, options: ReadSafetensorsOptions = {}): SafetensorsFile {
  const source = options.source ?? '<safetensors buffer>';
  const headerLength = readHeaderLength(bytes.subarray(0, 8), bytes.byteLength, source);
  const plan = parseHeader(bytes.subarray(8, 8 + headerLength), headerLength, bytes.byteLength, source);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const t of plan.tensors) {
    const raw = bytes.subarray(plan.dataStart + t.begin, plan.dataStart + t.end);
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: decodeTensorData(raw, t, options, source) });
  }
  return { metadata: plan.metadata, tensors };
}

/** Reads a safetensors file; the header is validated before any tensor data is read. */
export function readSafetensors(filePath: string, options: Omit<ReadSafetensorsOptions, 'source'> = {}): SafetensorsFile {
  const fd = openForRead(filePath);
  try {
    const fileSize = fs.fstatSync(fd).size;
    const headerLength = readHeaderLength(readExactly(fd, 0, Math.min(8, fileSize)), fileSize, filePath);
    const plan = parseHeader(readExactly(fd, 8, headerLength), headerLength, fileSize, filePath);
    const tensors = new Map<string, SafetensorsTensor>();
    for (const t of plan.tensors) {
      const raw = readExactly(fd, plan.dataStart + t.begin, t.end - t.begin);
      tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: decodeTensorData(raw, t, { ...options, source: filePath }, filePath) });
    }
    return { metadata: plan.metadata, tensors };
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads only the header: names, dtypes, shapes and metadata, without tensor data. */
export function readSafetensorsHeader(filePath: string): { metadata: Record<string, string>; tensors: Map<string, { dtype: SafetensorsDtype; shape: number[] }> } {
  const fd = openForRead(filePath);
  try {
    const fileSize = fs.fstatSync(fd).size;
    const headerLength = readHeaderLength(readExactly(fd, 0, Math.min(8, fileSize)), fileSize, filePath);
    const plan = parseHeader(readExactly(fd, 8, headerLength), headerLength, fileSize, filePath);
    return { metadata: plan.metadata, tensors: new Map(plan.tensors.map((t) => [t.name, { dtype: t.dtype, shape: t.shape }])) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Loads a safetensors file as TF.js tensors (the caller disposes them): floats become float32,
 * integers int32 (64-bit values outside the int32 range are an error), BOOL becomes bool.
 */
export function loadSafetensorsAsTensors(filePath: string): Map<string, tf.Tensor> {
  const file = readSafetensors(filePath);
  const out = new Map<string, tf.Tensor>();
  for (const [name, t] of file.tensors) out.set(name, tf.tensor(t.data as Float32Array | Int32Array | Uint8Array, t.shape, tfDtypeOf(t.dtype)));
  return out;
}

function tfDtypeOf(dtype: SafetensorsDtype): 'float32' | 'int32' | 'bool' {
  if (dtype === 'BOOL') return 'bool';
  if (dtype.startsWith('F') || dtype === 'BF16') return 'float32';
  return 'int32';
}

function openForRead(filePath: string): number {
  try {
    return fs.openSync(filePath, 'r');
  } catch (error) {
    throw new SafetensorsError(`cannot open: ${(error as Error).message}`, filePath);
  }
}

function readExactly(fd: number, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, out, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? out : out.subarray(0, done);
}

function readHeaderLength(prefix: Uint8Array, totalSize: number, source: string): number {
  if (totalSize < 8) throw new SafetensorsError(`truncated: ${totalSize} bytes, too short for the 8-byte header length`, source);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) throw new SafetensorsError(`header length ${length} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`, source);
  if (length > BigInt(totalSize - 8)) throw new SafetensorsError(`header length ${length} exceeds the file (${totalSize} bytes): truncated or corrupt`, source);
  if (length < 2n) throw new SafetensorsError(`header length ${length} is too small for a JSON object`, source);
  return Number(length);
}

function parseHeader(headerBytes: Uint8Array, headerLength: number, totalSize: number, source: string): HeaderPlan {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError('header is not valid UTF-8', source);
  }
  scanHeader(text, source);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError(`header is not valid JSON (${(error as Error).message})`, source);
  }
  if (!isPlainObject(header)) throw new SafetensorsError('header must be a JSON object', source);
  const dataStart = 8 + headerLength;
  const dataSize = totalSize - dataStart;
  const metadata = parseMetadata(header.__metadata__, source);
  const tensors = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, entry]) => parseEntry(name, entry, dataSize, source));
  checkLayout(tensors, dataSize, source);
  return { metadata, tensors, dataStart };
}

/**
 * One pass over the header text (nothing materialised) that rejects what JSON.parse would accept silently
 * or expensively: a duplicate key at any level (HF rejects them; JSON.parse keeps the last), and more
 * tensors or values than the limits. It only tracks nesting and keys; syntax errors are left to
 * JSON.parse, which words them better, so the scan stops quietly at anything it does not expect.
 */
function scanHeader(text: string, source: string): void {
  const objects: (Set<string> | null)[] = [];
  let expectKey = false;
  let tensors = 0;
  let values = 0;
  const countValue = () => {
    if (++values > MAX_SAFETENSORS_HEADER_VALUES) throw new SafetensorsError(`header holds more than ${MAX_SAFETENSORS_HEADER_VALUES} JSON values (the limit keeps its parsed form small)`, source);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return;
      const keys = objects[objects.length - 1];
      if (keys && expectKey) {
        const key = decodeString(text.slice(i, end + 1));
        if (key === undefined) return;
        addKey(keys, key, objects.length === 1, source);
        if (objects.length === 1 && key !== '__metadata__' && ++tensors > MAX_SAFETENSORS_TENSORS) throw new SafetensorsError(`header lists more than ${MAX_SAFETENSORS_TENSORS} tensors (MAX_SAFETENSORS_TENSORS)`, source);
        expectKey = false;
      } else countValue();
      i = end;
    } else if (c === '{' || c === '[') {
      countValue();
      objects.push(c === '{' ? new Set() : null);
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      objects.pop();
    } else if (c === ',') {
      expectKey = objects[objects.length - 1] instanceof Set;
    } else if (c === ':') {
      expectKey = false;
    } else if (/[-0-9tfn]/.test(c)) {
      countValue();
      while (i + 1 < text.length && !/[,\]}\s]/.test(text[i + 1])) i++;
    }
  }
}

function addKey(keys: Set<string>, key: string, topLevel: boolean, source: string): void {
  if (keys.has(key)) throw new SafetensorsError(`header repeats the key ${JSON.stringify(key)}${topLevel ? '' : ' inside a tensor entry'} (duplicate keys are invalid)`, source);
  keys.add(key);
}

/** Index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  for (let quote = text.indexOf('"', start + 1); quote >= 0; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text[quote - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
  return -1;
}

/** The key a quoted JSON string stands for (`"\u0061"` is `a`), or undefined when it is malformed. */
function decodeString(quoted: string): string | undefined {
  if (!quoted.includes('\\')) return quoted.slice(1, -1);
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return undefined;
  }
}

function parseMetadata(value: unknown, source: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new SafetensorsError('__metadata__ must be an object of strings', source);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new SafetensorsError(`__metadata__.${key} must be a string, got ${typeof v}`, source);
  }
  return { ...(value as Record<string, string>) };
}

function parseEntry(name: string, entry: unknown, dataSize: number, source: string): PlannedTensor {
  const fail = (message: string): never => {
    throw new SafetensorsError(message, source, name);
  };
  if (!isPlainObject(entry)) fail('entry must be an object with dtype, shape and data_offsets');
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) fail(`unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) fail(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) fail(`data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataSize) fail(`data_offsets [${begin}, ${end}] run past the data section (${dataSize} bytes): truncated or corrupt`);
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = elements * DTYPE_BYTES[dtype as SafetensorsDtype];
  if (expected !== end - begin) fail(`shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  return { name, dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], begin, end };
}

/** Tensors must tile the data section exactly: no overlaps, no gaps, nothing left over (as HF checks). */
function checkLayout(tensors: PlannedTensor[], dataSize: number, source: string): void {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let previous: PlannedTensor | undefined;
  for (const t of sorted) {
    const expectedBegin = previous ? previous.end : 0;
    if (t.begin < expectedBegin) throw new SafetensorsError(`data_offsets [${t.begin}, ${t.end}] overlap tensor "${previous!.name}" [${previous!.begin}, ${previous!.end}]`, source, t.name);
    if (t.begin > expectedBegin) throw new SafetensorsError(`data_offsets [${t.begin}, ${t.end}] leave a gap after byte ${expectedBegin}`, source, t.name);
    previous = t;
  }
  const covered = previous ? previous.end : 0;
  if (covered !== dataSize) throw new SafetensorsError(`tensors cover ${covered} bytes of a ${dataSize}-byte data section (trailing bytes: corrupt file)`, source);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Copies the raw little-endian bytes into a fresh, aligned typed array of the right kind. */
function decodeTensorData(raw: Uint8Array, t: PlannedTensor, options: ReadSafetensorsOptions, source: string): SafetensorsData {
  // new Uint8Array(view) copies (Buffer#slice would share memory and keep the whole file alive).
  const copy = new Uint8Array(raw).buffer;
  if (isPlainDtype(t.dtype)) return new PLAIN_ARRAYS[t.dtype](copy);
  switch (t.dtype) {
    case 'F16':
      return float16ToFloat32(new Uint16Array(copy));
    case 'BF16':
      return bfloat16ToFloat32(new Uint16Array(copy));
    case 'I64':
    case 'U64': {
      const wide = t.dtype === 'I64' ? new BigInt64Array(copy) : new BigUint64Array(copy);
      return options.int64 === 'bigint' ? wide : narrowToInt32(wide, t.name, source);
    }
  }
}

function narrowToInt32(wide: BigInt64Array | BigUint64Array, name: string, source: string): Int32Array {
  const out = new Int32Array(wide.length);
  for (let i = 0; i < wide.length; i++) {
    const v = wide[i];
    if (v > 2147483647n || v < -2147483648n) throw new SafetensorsError(`element ${i} = ${v} does not fit in int32 (read with { int64: 'bigint' } to keep 64-bit values)`, source, name);
    out[i] = Number(v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// float16 / bfloat16 conversion

export function float16ToFloat32(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) out[i] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) out[i] = mantissa ? NaN : sign * Infinity;
    else out[i] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

export function bfloat16ToFloat32(halves: Uint16Array): Float32Array {
  const bits = new Uint32Array(halves.length);
  for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
  return new Float32Array(bits.buffer);
}

/** Round-to-nearest-even float32 → float16 bits (what torch's .half() does). */
export function float32ToFloat16(values: ArrayLike<number>): Uint16Array {
  return mapFloat32Bits(values, float16Bits);
}

function float16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e < -10) return sign;
  if (e <= 0) {
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    let half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Round-to-nearest-even float32 → bfloat16 bits. */
export function float32ToBfloat16(values: ArrayLike<number>): Uint16Array {
  return mapFloat32Bits(values, (x) => {
    // A NaN stays a (quiet) NaN rather than rounding into infinity.
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
    return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  });
}

/** 16-bit codes of float32 values, each computed from the value's float32 bit pattern. */
function mapFloat32Bits(values: ArrayLike<number>, code: (bits: number) => number): Uint16Array {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    out[i] = code(u32[0]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Serializes tensors exactly as HF's safetensors writer does (same ordering, header and padding). */
export function serializeSafetensors(tensors: Map<string, SafetensorsInput> | Record<string, SafetensorsInput>, metadata: Record<string, string> | null = { format: 'pt' }): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const encoded = entries.map(([name, input]) => encodeTensor(name, input));
  encoded.sort((a, b) => RUST_DTYPE_ORDER.indexOf(b.dtype) - RUST_DTYPE_ORDER.indexOf(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts: string[] = [];
  if (metadata) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const t of encoded) {
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${offset + t.bytes.byteLength}]}`);
    offset += t.bytes.byteLength;
  }
  let header = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padding = (8 - (header.byteLength % 8)) % 8;
  if (padding) header = Buffer.concat([header, Buffer.alloc(padding, 0x20)]);
  const out = new Uint8Array(8 + header.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.byteLength), true);
  out.set(header, 8);
  let position = 8 + header.byteLength;
  for (const t of encoded) {
    out.set(t.bytes, position);
    position += t.bytes.byteLength;
  }
  return out;
}

/**
 * Writes an HF-compatible safetensors file atomically. TF.js tensors are stored as F32 / I32 /
 * BOOL; raw `{ dtype, shape, data }` entries are converted to the dtype they name (e.g. F16).
 */
export function writeSafetensors(filePath: string, tensors: Map<string, SafetensorsInput> | Record<string, SafetensorsInput>, metadata: Record<string, string> | null = { format: 'pt' }): void {
  writeFileAtomic(filePath, serializeSafetensors(tensors, metadata));
}

interface EncodedTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  bytes: Uint8Array;
}

function encodeTensor(name: string, input: SafetensorsInput): EncodedTensor {
  if (name === '__metadata__') throw new PretrainError('safetensors: "__metadata__" is reserved and cannot name a tensor');
  if (input instanceof tf.Tensor) {
    const dtype: SafetensorsDtype = input.dtype === 'float32' ? 'F32' : input.dtype === 'int32' ? 'I32' : input.dtype === 'bool' ? 'BOOL' : fail(`tensor "${name}": cannot store TF.js dtype ${input.dtype}`);
    return encodeRaw(name, dtype, input.shape, input.dataSync() as ArrayLike<number>);
  }
  return encodeRaw(name, input.dtype, input.shape, input.data);
}

function encodeRaw(name: string, dtype: SafetensorsDtype, shape: number[], data: ArrayLike<number> | BigInt64Array | BigUint64Array): EncodedTensor {
  if (!Object.hasOwn(DTYPE_BYTES, dtype)) fail(`tensor "${name}": unsupported dtype ${dtype}`);
  const elements = shape.reduce((a, b) => a * b, 1);
  if (data.length !== elements) fail(`tensor "${name}": shape [${shape.join(', ')}] needs ${elements} values, got ${data.length}`);
  const typed = toTypedArray(dtype, data);
  return { name, dtype, shape: [...shape], bytes: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength) };
}

function toTypedArray(dtype: SafetensorsDtype, data: ArrayLike<number> | BigInt64Array | BigUint64Array): ArrayBufferView {
  const numbers = data as ArrayLike<number>;
  if (isPlainDtype(dtype)) return PLAIN_ARRAYS[dtype].from(numbers);
  switch (dtype) {
    case 'F16':
      return float32ToFloat16(numbers);
    case 'BF16':
      return float32ToBfloat16(numbers);
    case 'I64':
      return data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(numbers, (v) => BigInt(v)));
    case 'U64':
      return data instanceof BigUint64Array ? data : BigUint64Array.from(Array.from(numbers, (v) => BigInt(v)));
  }
}

type PlainDtype = 'F32' | 'F64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL' | 'U16' | 'U32';
type PlainArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array;

/** The dtypes whose bytes are a JS typed array's, little-endian as stored, with that array's constructor. */
const PLAIN_ARRAYS = { F32: Float32Array, F64: Float64Array, I32: Int32Array, I16: Int16Array, I8: Int8Array, U8: Uint8Array, BOOL: Uint8Array, U16: Uint16Array, U32: Uint32Array } as Record<
  PlainDtype,
  { new (buffer: ArrayBuffer): PlainArray; from(values: ArrayLike<number>): PlainArray }
>;

function isPlainDtype(dtype: SafetensorsDtype): dtype is PlainDtype {
  return Object.hasOwn(PLAIN_ARRAYS, dtype);
}

function fail(message: string): never {
  throw new PretrainError(`safetensors: ${message}`);
}

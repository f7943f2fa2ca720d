import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend';
import {
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  bfloat16ToFloat32,
  loadSafetensorsAsTensors,
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
  SafetensorsError,
  writeSafetensors,
  MAX_SAFETENSORS_HEADER_VALUES,
  MAX_SAFETENSORS_TENSORS,
} from './safetensors';
import { writeFileAtomic, writeJsonAtomic } from './atomic';

const hfDir = path.join(__dirname, '../../../fixtures/hf');
const fixtureNames = fs.readdirSync(hfDir).filter((d) => fs.existsSync(path.join(hfDir, d, 'fixture.json')));

interface FixtureJson {
  state_dict: { name: string; shape: number[]; dtype: string }[];
  saved_safetensors: { metadata: Record<string, string>; tensors: { name: string; shape: number[]; dtype: string }[] };
  outputs: Record<string, unknown>;
  train_step?: { grad_l2_norm: Record<string, number> };
}

function fixture(name: string): FixtureJson {
  return JSON.parse(fs.readFileSync(path.join(hfDir, name, 'fixture.json'), 'utf8'));
}

let tmp: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-safetensors-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function flatten(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [value as number];
}

describe('reading the HF fixtures', () => {
  it.each(fixtureNames)('%s/model/model.safetensors has the names, shapes and dtypes HF saved', (name) => {
    const expected = fixture(name).saved_safetensors;
    const file = readSafetensors(path.join(hfDir, name, 'model/model.safetensors'));
    expect(file.metadata).toEqual(expected.metadata);
    expect([...file.tensors.keys()].sort()).toEqual(expected.tensors.map((t) => t.name).sort());
    for (const t of expected.tensors) {
      const got = file.tensors.get(t.name)!;
      expect({ name: t.name, shape: got.shape, dtype: got.dtype }).toEqual({ name: t.name, shape: t.shape, dtype: t.dtype });
      expect(got.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
    }
    // Every state-dict entry is in the file, except tied copies HF drops when saving.
    const saved = new Set(expected.tensors.map((t) => t.name));
    for (const t of fixture(name).state_dict) if (saved.has(t.name)) expect(file.tensors.get(t.name)!.shape).toEqual(t.shape);
  });

  it.each(fixtureNames)('%s/outputs.safetensors values equal the JSON outputs Python wrote', (name) => {
    const json = fixture(name).outputs;
    const file = readSafetensors(path.join(hfDir, name, 'outputs.safetensors'));
    let compared = 0;
    for (const [key, value] of Object.entries(json)) {
      const t = file.tensors.get(key);
      if (!t) continue;
      const expected = flatten(value);
      expect(t.data.length).toBe(expected.length);
      const got = Array.from(t.data as ArrayLike<number>);
      // JSON holds the float32 values printed as float64: equal after rounding to float32.
      expect(got).toEqual(expected.map((v) => Math.fround(v)));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(2);
  });

  it.each(fixtureNames.filter((n) => fixture(n).train_step))('%s/grads.safetensors L2 norms equal torch\'s', (name) => {
    const norms = fixture(name).train_step!.grad_l2_norm;
    const grads = readSafetensors(path.join(hfDir, name, 'grads.safetensors'));
    expect(Object.keys(norms).length).toBeGreaterThan(10);
    for (const [param, norm] of Object.entries(norms)) {
      const data = grads.tensors.get(param)!.data as Float32Array;
      let sum = 0;
      for (const v of data) sum += v * v;
      expect(Math.abs(Math.sqrt(sum) - norm)).toBeLessThanOrEqual(1e-5 * Math.max(1, norm));
    }
  });

  it('reads int64 tensors as int32 (or BigInt64 when asked)', () => {
    const file = path.join(hfDir, 'gpt2-generate/outputs.safetensors');
    const json = fixture('gpt2-generate').outputs;
    const asInt32 = readSafetensors(file).tensors.get('sequences')!;
    expect(asInt32.dtype).toBe('I64');
    expect(asInt32.data).toBeInstanceOf(Int32Array);
    expect(Array.from(asInt32.data as Int32Array)).toEqual(flatten(json.sequences));
    const asBig = readSafetensors(file, { int64: 'bigint' }).tensors.get('sequences')!;
    expect(Array.from(asBig.data as BigInt64Array, Number)).toEqual(flatten(json.sequences));
  });

  const python = pythonAvailable();
  (python ? it : it.skip)('model.safetensors values equal an independent Python stdlib reader (struct + json)', () => {
    for (const name of fixtureNames) {
      const file = path.join(hfDir, name, 'model/model.safetensors');
      const reference = pythonChecksums(file);
      const ours = readSafetensors(file);
      for (const [tensor, ref] of Object.entries(reference)) {
        const data = ours.tensors.get(tensor)!.data as Float32Array;
        expect(Array.from(data.subarray(0, 4))).toEqual(ref.head);
        expect(Array.from(data.subarray(data.length - 2))).toEqual(ref.tail);
        let sum = 0;
        for (const v of data) sum += v;
        expect(Math.abs(sum - ref.sum)).toBeLessThan(1e-9 * Math.max(1, Math.abs(ref.sum)) + 1e-9);
      }
      expect(Object.keys(reference).length).toBe(ours.tensors.size);
    }
  });
  if (!python) console.warn('python3 not found: skipping the independent Python safetensors check');
});

function pythonAvailable(): boolean {
  try {
    execFileSync('python3', ['-c', 'import struct, json'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Per tensor: first 4 values, last 2, and the float64 sum, read by Python's struct module. */
function pythonChecksums(file: string): Record<string, { head: number[]; tail: number[]; sum: number }> {
  const script = `
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
out = {}
for k, v in h.items():
    if k == '__metadata__': continue
    assert v['dtype'] == 'F32'
    s, e = v['data_offsets']
    vals = struct.unpack('<%df' % ((e - s) // 4), b[8 + n + s:8 + n + e])
    out[k] = {'head': list(vals[:4]), 'tail': list(vals[-2:]), 'sum': sum(vals)}
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

describe('writing', () => {
  it.each(fixtureNames)('re-serialising %s files reproduces HF\'s bytes exactly', (name) => {
    for (const rel of ['model/model.safetensors', 'outputs.safetensors']) {
      const original = fs.readFileSync(path.join(hfDir, name, rel));
      const parsed = parseSafetensors(original, { int64: 'bigint' });
      const rewritten = serializeSafetensors(parsed.tensors as never, parsed.metadata);
      expect(Buffer.from(rewritten).equals(original)).toBe(true);
    }
  });

  it('round-trips TF.js tensors and raw arrays of every dtype through a file', () => {
    const file = path.join(tmp, 'round.safetensors');
    const f32 = tf.tensor2d([[1.5, -2], [3.25, 1e-7]]);
    const i32 = tf.tensor1d([7, -8, 2147483647], 'int32');
    const mask = tf.tensor1d([true, false, true], 'bool');
    const scalar = tf.scalar(42);
    const values = [0, 1, -1, 0.5, 65504, 1e-5, -3.140625];
    writeSafetensors(file, new Map<string, never>([
      ['a.weight', f32 as never],
      ['ids', i32 as never],
      ['mask', mask as never],
      ['scalar', scalar as never],
      ['half', { dtype: 'F16', shape: [7], data: values } as never],
      ['brain', { dtype: 'BF16', shape: [7], data: values } as never],
      ['long', { dtype: 'I64', shape: [2], data: [123456, -5] } as never],
      ['empty', { dtype: 'F32', shape: [0, 3], data: [] } as never],
    ]));
    const back = readSafetensors(file);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(Array.from(back.tensors.get('a.weight')!.data as Float32Array)).toEqual(Array.from(f32.dataSync()));
    expect(back.tensors.get('a.weight')!.shape).toEqual([2, 2]);
    expect(Array.from(back.tensors.get('ids')!.data as Int32Array)).toEqual([7, -8, 2147483647]);
    expect(Array.from(back.tensors.get('mask')!.data as Uint8Array)).toEqual([1, 0, 1]);
    expect(back.tensors.get('scalar')!.shape).toEqual([]);
    expect(Array.from(back.tensors.get('half')!.data as Float32Array)).toEqual(Array.from(float16ToFloat32(float32ToFloat16(values))));
    expect(Array.from(back.tensors.get('brain')!.data as Float32Array)).toEqual(Array.from(bfloat16ToFloat32(float32ToBfloat16(values))));
    expect(Array.from(back.tensors.get('long')!.data as Int32Array)).toEqual([123456, -5]);
    expect(back.tensors.get('empty')!.shape).toEqual([0, 3]);
    // Header order: I64 first, then F32 by name, then F16/BF16, I32, BOOL (HF's writer order).
    expect([...readSafetensorsHeader(file).tensors.keys()]).toEqual(['long', 'a.weight', 'empty', 'scalar', 'ids', 'brain', 'half', 'mask']);
    const loaded = loadSafetensorsAsTensors(file);
    expect(loaded.get('ids')!.dtype).toBe('int32');
    expect(loaded.get('mask')!.dtype).toBe('bool');
    expect(loaded.get('half')!.dtype).toBe('float32');
    loaded.forEach((t) => t.dispose());
    tf.dispose([f32, i32, mask, scalar]);
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('converts float16 and bfloat16 exactly at known bit patterns', () => {
    // 1.0, -2.0, 65504 (max half), smallest subnormal, +inf
    expect(Array.from(float16ToFloat32(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00])))).toEqual([1, -2, 65504, 2 ** -24, Infinity]);
    expect(Array.from(float32ToFloat16([1, -2, 65504, 2 ** -24, 1e6, 1 + 2 ** -11, 1 + 3 * 2 ** -11]))).toEqual([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3c00, 0x3c02]);
    expect(Array.from(bfloat16ToFloat32(new Uint16Array([0x3f80, 0xc040])))).toEqual([1, -3]);
    expect(Array.from(float32ToBfloat16([1, -3, 1 + 2 ** -8, 1 + 3 * 2 ** -8]))).toEqual([0x3f80, 0xc040, 0x3f80, 0x3f82]);
    expect(Number.isNaN(float16ToFloat32(float32ToFloat16([NaN]))[0])).toBe(true);
  });

  it('writes atomically: no temp files left, old content replaced whole', () => {
    const file = path.join(tmp, 'nested/dir/config.json');
    writeJsonAtomic(file, { a: 1 });
    writeJsonAtomic(file, { b: [1, 2] });
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ b: [1, 2] });
    writeFileAtomic(path.join(tmp, 'bytes.bin'), new Uint8Array([1, 2, 3]));
    expect([...fs.readFileSync(path.join(tmp, 'bytes.bin'))]).toEqual([1, 2, 3]);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['config.json']);
    // A failing write (target is a directory) leaves the directory and no temp file behind.
    fs.mkdirSync(path.join(tmp, 'adir'));
    expect(() => writeFileAtomic(path.join(tmp, 'adir'), 'x')).toThrow();
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('rejecting corrupt files', () => {
  const good = (): Buffer => Buffer.from(serializeSafetensors({ a: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] }, b: { dtype: 'I32', shape: [3], data: [1, 2, 3] } }));

  /** A file with a hand-written header (padded) and `dataBytes` zero bytes of data. */
  function withHeader(header: unknown, dataBytes: number): Buffer {
    let json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
    json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]);
  }

  function rejects(bytes: Uint8Array, message: RegExp): void {
    let error: unknown;
    try {
      parseSafetensors(bytes, { source: 'bad.safetensors' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as Error).message).toMatch(/^bad\.safetensors: /);
    expect((error as Error).message).toMatch(message);
  }

  it('accepts the untouched file', () => {
    expect(parseSafetensors(good()).tensors.size).toBe(2);
  });

  it('rejects files shorter than the length prefix', () => rejects(good().subarray(0, 5), /truncated: 5 bytes/));
  it('rejects a truncated data section', () => rejects(good().subarray(0, good().length - 3), /tensor "b".*run past the data section/));
  it('rejects a truncated header', () => rejects(good().subarray(0, 20), /header length \d+ exceeds the file \(20 bytes\)/));

  it('rejects an oversized header length before reading it', () => {
    const bytes = good();
    bytes.writeBigUInt64LE(2n ** 62n);
    rejects(bytes, /header length 4611686018427387904 exceeds the 100000000-byte limit/);
  });

  it('rejects bad JSON and non-object headers', () => {
    rejects(withHeader('{"a": {"dtype": "F32",', 0), /not valid JSON/);
    rejects(withHeader('[1, 2, 3]', 0), /must be a JSON object/);
    rejects(withHeader({ __metadata__: { format: 5 } }, 0), /__metadata__\.format must be a string/);
  });

  it('rejects out-of-range, overlapping, gapped and mis-sized tensors, naming the tensor', () => {
    rejects(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 12), /tensor "b": data_offsets \[8, 16\] run past the data section \(12 bytes\)/);
    rejects(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), /tensor "b": data_offsets \[4, 12\] overlap tensor "a"/);
    rejects(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12), /tensor "b".*gap after byte 4/);
    rejects(withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /tensor "a": shape \[3\] of F32 needs 12 bytes, but data_offsets \[0, 8\] hold 8/);
    rejects(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 16), /cover 8 bytes of a 16-byte data section/);
    rejects(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8), /end before they begin/);
  });

  it('rejects malformed entries', () => {
    rejects(withHeader({ a: { dtype: 'Q7', shape: [1], data_offsets: [0, 1] } }, 1), /tensor "a": unsupported dtype "Q7"/);
    rejects(withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /tensor "a": shape must be an array of non-negative integers/);
    rejects(withHeader({ a: { dtype: 'F32', shape: [1] } }, 4), /tensor "a": data_offsets must be/);
    rejects(withHeader({ a: 7 }, 0), /tensor "a": entry must be an object/);
    // A huge shape is rejected by the size check, long before anything would be allocated.
    rejects(withHeader({ a: { dtype: 'F32', shape: [1e9, 1e9], data_offsets: [0, 4] } }, 4), /needs 4000000000000000000 bytes/);
  });

  it('rejects duplicate keys, at the top level and inside an entry (as HF does)', () => {
    const entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    rejects(withHeader(`{"a":${entry},"a":${entry}}`, 4), /header repeats the key "a" \(duplicate keys are invalid\)/);
    rejects(withHeader(`{"a":${entry},"\\u0061":${entry}}`, 4), /header repeats the key "a"/);
    rejects(withHeader('{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4), /repeats the key "dtype" inside a tensor entry/);
    rejects(withHeader(`{"q\\"\\\\":${entry},"q\\"\\\\":${entry}}`, 4), /repeats the key "q\\"\\\\"/);
    // Look-alikes inside strings and equal keys in different objects are not duplicates.
    const quoted = withHeader(`{"__metadata__":{"note":"{\\"a\\":1,\\"a\\":2}","a":"x"},"a":${entry}}`, 4);
    expect(parseSafetensors(quoted).metadata).toEqual({ note: '{"a":1,"a":2}', a: 'x' });
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('rejects the inherited name %s as a dtype', (dtype) => {
    rejects(withHeader({ a: { dtype, shape: [1], data_offsets: [0, 1] } }, 1), new RegExp(`tensor "a": unsupported dtype "${dtype}"`));
  });

  it('bounds the tensor count and the header\'s values before parsing it', () => {
    const tensors = MAX_SAFETENSORS_TENSORS + 1;
    const header = `{${Array.from({ length: tensors }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',')}}`;
    rejects(withHeader(header, 0), new RegExp(`header lists more than ${MAX_SAFETENSORS_TENSORS} tensors`));
    const values = `{"__metadata__":{"format":"pt"},"a":{"dtype":"U8","shape":[${new Array(MAX_SAFETENSORS_HEADER_VALUES).fill(1).join(',')}],"data_offsets":[0,1]}}`;
    rejects(withHeader(values, 1), new RegExp(`header holds more than ${MAX_SAFETENSORS_HEADER_VALUES} JSON values`));
  });

  it('rejects int64 values that do not fit in int32 unless BigInt output is asked for', () => {
    const bytes = serializeSafetensors({ big: { dtype: 'I64', shape: [2], data: [1, 2 ** 40] } });
    rejects(bytes, /tensor "big": element 1 = 1099511627776 does not fit in int32/);
    expect(Array.from(parseSafetensors(bytes, { int64: 'bigint' }).tensors.get('big')!.data as BigInt64Array)).toEqual([1n, 2n ** 40n]);
  });

  it('names the file when reading from disk', () => {
    const file = path.join(tmp, 'truncated.safetensors');
    fs.writeFileSync(file, good().subarray(0, 30));
    expect(() => readSafetensors(file)).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: header length`));
    expect(() => readSafetensors(path.join(tmp, 'missing.safetensors'))).toThrow(/missing\.safetensors: cannot open/);
  });
});

/**
 * The replaced kernels against reference ops on random inputs, and one tiny training step that
 * must give the same loss and gradients on wasm and cpu. The cpu backend's stock BatchMatMul,
 * OneHot and Softmax are the references; segment sums are checked against a one-hot matmul.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../backend';
import { Rng } from '../rng';
import { MATMUL_PARITY_CASES } from '../testing/matmul-cases';
import '../gradients';

const rng = new Rng(7);
function randomArray(size: number): Float32Array {
  return Float32Array.from({ length: size }, () => rng.normal());
}
function randomTensorData(shape: number[]): { shape: number[]; values: Float32Array } {
  return { shape, values: randomArray(shape.reduce((a, b) => a * b, 1)) };
}

/** Runs `fn` on one backend inside tidy and returns its outputs as host arrays. */
async function on<T extends tf.Tensor | tf.Tensor[]>(backend: BackendName, fn: () => T): Promise<{ shape: number[]; values: Float32Array | Int32Array | Uint8Array }[]> {
  await initBackend({ backend, log: false });
  expect(tf.getBackend()).toBe(backend);
  return tf.tidy(() => {
    const result = fn();
    const list = Array.isArray(result) ? result : [result];
    return list.map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
  });
}

function expectClose(actual: { shape: number[]; values: ArrayLike<number> }, expected: { shape: number[]; values: ArrayLike<number> }, tolerance = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.values.length).toBe(expected.values.length);
  let worst = 0;
  for (let i = 0; i < expected.values.length; i++) {
    const scale = Math.max(1, Math.abs(expected.values[i]));
    worst = Math.max(worst, Math.abs(actual.values[i] - expected.values[i]) / scale);
  }
  expect(worst).toBeLessThanOrEqual(tolerance);
}

async function onBoth(fn: () => tf.Tensor | tf.Tensor[]) {
  const cpu = await on('cpu', fn);
  const wasm = await on('wasm', fn);
  return { cpu, wasm };
}

afterAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
});

describe('wasm BatchMatMul (fast path for transposed and batched products)', () => {
  const cases = MATMUL_PARITY_CASES;
  it.each(cases)('%s matches cpu', async (_name, aShape, bShape, transposeA, transposeB) => {
    const a = randomTensorData(aShape);
    const b = randomTensorData(bShape);
    const { cpu, wasm } = await onBoth(() => tf.matMul(tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape), transposeA, transposeB));
    expectClose(wasm[0], cpu[0]);
  });

  it('Aᵀ·B whose swapped weights would exceed the cache (tied LM head gradient: computed directly) matches cpu', async () => {
    // 4.2M elements: cheap patterned values instead of random normals (generation would dominate the test).
    const patterned = (shape: number[], salt: number) => ({ shape, values: Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => (((i * 7919 + salt) % 1009) - 504) / 504) });
    const a = patterned([64, 65600], 1);
    const b = patterned([64, 6], 2);
    const { cpu, wasm } = await onBoth(() => tf.matMul(tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape), true, false));
    expectClose(wasm[0], cpu[0]);
  });

  it('two-way broadcast batch dims equal the product of explicitly tiled inputs (tfjs\'s stock kernels get this wrong)', async () => {
    const a = randomTensorData([2, 1, 4, 5]);
    const b = randomTensorData([1, 3, 5, 2]);
    const tiled = await on('cpu', () => tf.matMul(tf.tile(tf.tensor(a.values, a.shape), [1, 3, 1, 1]), tf.tile(tf.tensor(b.values, b.shape), [2, 1, 1, 1])));
    expect(tiled[0].shape).toEqual([2, 3, 4, 2]);
    const { cpu, wasm } = await onBoth(() => tf.matMul(tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape)));
    expectClose(cpu[0], tiled[0]);
    expectClose(wasm[0], tiled[0]);
  });

  it('weights reused under another reshape are not confused by XNNPACK\'s id-keyed operator cache (stock TF.js bug)', async () => {
    const t = randomTensorData([6, 4]);
    const x = randomTensorData([2, 6]);
    const z = randomTensorData([3, 4]);
    const bias = randomTensorData([6]);
    const { cpu, wasm } = await onBoth(() => {
      const weights = tf.tensor2d(t.values, [6, 4]);
      const first = tf.matMul(tf.tensor(x.values, x.shape), weights);
      const reshaped = tf.reshape(weights, [4, 6]);
      return [
        first,
        tf.matMul(tf.tensor(z.values, z.shape), reshaped),
        tf.fused.matMul({ a: tf.tensor(z.values, z.shape), b: reshaped, bias: tf.tensor(bias.values, bias.shape) }),
        tf.matMul(tf.tensor(x.values, x.shape), weights),
      ];
    });
    for (let i = 0; i < cpu.length; i++) expectClose(wasm[i], cpu[i]);
  });

  it('gradients of transposed and batched products match cpu', async () => {
    const a = randomTensorData([3, 6, 5]);
    const b = randomTensorData([3, 4, 6]);
    const w = randomTensorData([3, 5, 4]);
    const { cpu, wasm } = await onBoth(() => {
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, true, true), tf.tensor(w.values, w.shape)));
      return tf.grads(f)([tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape)]);
    });
    expectClose(wasm[0], cpu[0]);
    expectClose(wasm[1], cpu[1]);
  });

  it('fused matmul with transposes, bias and relu matches cpu', async () => {
    const a = randomTensorData([9, 7]);
    const b = randomTensorData([5, 9]);
    const bias = randomTensorData([5]);
    const { cpu, wasm } = await onBoth(() =>
      tf.fused.matMul({ a: tf.tensor(a.values, a.shape), b: tf.tensor(b.values, b.shape), transposeA: true, transposeB: true, bias: tf.tensor(bias.values, bias.shape), activation: 'relu' }),
    );
    expectClose(wasm[0], cpu[0]);
  });

  it('leaves no tensors or heap allocations behind', async () => {
    await initBackend({ backend: 'wasm', log: false });
    const a = tf.tensor(randomArray(2 * 3 * 8 * 4), [2, 3, 8, 4]);
    const before = { tensors: tf.memory().numTensors, dataIds: tf.engine().backend.numDataIds() };
    for (let i = 0; i < 5; i++) tf.dispose([tf.matMul(a, a, false, true), tf.matMul(a, a, true, false)]);
    expect({ tensors: tf.memory().numTensors, dataIds: tf.engine().backend.numDataIds() }).toEqual(before);
    a.dispose();
  });
});

describe('comparisons (JS on the wasm heap)', () => {
  const ops = ['equal', 'notEqual', 'greater', 'greaterEqual', 'less', 'lessEqual'] as const;
  const shapes: [number[], number[]][] = [
    [[6, 40], [6, 1]],
    [[3, 4, 5], [3, 1, 5]],
    [[4, 1], [1, 6]],
    [[2, 3], []],
    [[5, 7], [5, 7]],
    [[7], [1]],
  ];
  it.each(ops)('%s matches cpu exactly for broadcast, scalar and same-shape operands', async (op) => {
    for (const [aShape, bShape] of shapes) {
      // Small integers make ties (equal values) common; NaN must compare false.
      const a = Float32Array.from({ length: aShape.reduce((x, y) => x * y, 1) }, () => rng.int(3));
      const b = Float32Array.from({ length: bShape.reduce((x, y) => x * y, 1) }, () => rng.int(3));
      a[0] = NaN;
      for (const dtype of ['float32', 'int32'] as const) {
        const { cpu, wasm } = await onBoth(() => tf.cast(tf[op](tf.tensor(a, aShape, dtype), tf.tensor(b, bShape, dtype)), 'int32'));
        expect(wasm[0].shape).toEqual(cpu[0].shape);
        expect(Array.from(wasm[0].values)).toEqual(Array.from(cpu[0].values));
      }
    }
  });

  it.each(['logicalAnd', 'logicalOr'] as const)('%s matches cpu exactly', async (op) => {
    const a = Uint8Array.from({ length: 24 }, () => rng.int(2));
    const b = Uint8Array.from({ length: 4 }, () => rng.int(2));
    const { cpu, wasm } = await onBoth(() => tf.cast(tf[op](tf.tensor(a, [6, 4], 'bool'), tf.tensor(b, [1, 4], 'bool')), 'int32'));
    expect(Array.from(wasm[0].values)).toEqual(Array.from(cpu[0].values));
  });

  it('max/min gradients (which use Equal) match cpu', async () => {
    const x = randomTensorData([9, 33]);
    const { cpu, wasm } = await onBoth(() => tf.grads((t: tf.Tensor) => tf.add(tf.sum(tf.max(t, -1)), tf.sum(tf.min(t, 0))))([tf.tensor(x.values, x.shape)]));
    expectClose(wasm[0], cpu[0], 0);
  });
});

describe('Identity (shares the heap buffer on wasm)', () => {
  it('equals its input, survives the input\'s disposal, and frees the buffer with the last reference', async () => {
    await initBackend({ backend: 'wasm', log: false });
    const values = randomArray(3 * 5);
    const before = { tensors: tf.memory().numTensors, dataIds: tf.engine().backend.numDataIds() };
    const x = tf.tensor2d(values, [3, 5]);
    const y = tf.engine().runKernel('Identity', { x }) as tf.Tensor;
    expect(tf.engine().backend.numDataIds()).toBe(before.dataIds + 1); // no copy
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual(Array.from(values));
    // A later op reusing freed heap memory must not change y.
    const other = tf.fill([3, 5], 7);
    expect(Array.from(y.dataSync())).toEqual(Array.from(values));
    tf.dispose([y, other]);
    expect({ tensors: tf.memory().numTensors, dataIds: tf.engine().backend.numDataIds() }).toEqual(before);
  });

  it('gradients that flow through Identity (tf.clone, customGrad) match cpu', async () => {
    const x = randomArray(4 * 6);
    const run = () =>
      tf.tidy(() => {
        const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.clone(tf.square(t)), tf.clone(t)));
        return Array.from(tf.grad(f)(tf.tensor2d(x, [4, 6])).dataSync());
      });
    await initBackend({ backend: 'cpu', log: false });
    const expected = run();
    await initBackend({ backend: 'wasm', log: false });
    const got = run();
    got.forEach((g, i) => expect(g).toBeCloseTo(expected[i], 5));
  });
});

describe('Sum over leading axes (JS on the wasm heap)', () => {
  it.each([
    [[64, 20], 0, false],
    [[4, 6, 5], [0, 1], true],
    [[4, 6, 5], 0, false],
    [[4, 6, 5], -1, false],
    [[4, 6, 5], [0, 2], false],
    [[30], 0, false],
  ] as [number[], number | number[], boolean][])('shape %j, axis %j, keepDims %s matches cpu', async (shape, axis, keepDims) => {
    const x = randomTensorData(shape);
    const { cpu, wasm } = await onBoth(() => tf.sum(tf.tensor(x.values, x.shape), axis, keepDims));
    expectClose(wasm[0], cpu[0], 1e-6);
    const ints = Int32Array.from(x.values, (v) => Math.round(v * 10));
    const intResult = await onBoth(() => tf.sum(tf.tensor(ints, shape, 'int32'), axis, keepDims));
    expect(Array.from(intResult.wasm[0].values)).toEqual(Array.from(intResult.cpu[0].values));
  });
});

describe('OneHot', () => {
  it.each(['float32', 'int32'] as const)('%s output matches cpu exactly (including out-of-range indices)', async (dtype) => {
    const indices = Int32Array.from([0, 3, 9, 2, -1, 10, 4, 4]);
    const { cpu, wasm } = await onBoth(() => tf.oneHot(tf.tensor2d(indices, [2, 4], 'int32'), 10, 3, -1, dtype));
    expect(wasm[0].shape).toEqual([2, 4, 10]);
    expect(Array.from(wasm[0].values)).toEqual(Array.from(cpu[0].values));
    expect(Array.from(cpu[0].values.slice(0, 10))).toEqual([3, -1, -1, -1, -1, -1, -1, -1, -1, -1]);
  });
});

describe('GatherV2 along axis 0 (row copies on the wasm heap)', () => {
  it.each([
    ['2-D table, 1-D indices (embedding lookup)', [9, 5], [7]],
    ['3-D table, 2-D indices', [6, 3, 4], [2, 5]],
    ['1-D table', [11], [8]],
  ])('%s matches cpu exactly (float32 and int32)', async (_name, shape, indexShape) => {
    const x = randomTensorData(shape);
    const ids = Int32Array.from({ length: indexShape.reduce((a, b) => a * b, 1) }, () => rng.int(shape[0]));
    const floats = await onBoth(() => tf.gather(tf.tensor(x.values, shape), tf.tensor(ids, indexShape, 'int32')));
    expect(floats.wasm[0].shape).toEqual([...indexShape, ...shape.slice(1)]);
    expect(Array.from(floats.wasm[0].values)).toEqual(Array.from(floats.cpu[0].values));
    const ints = Int32Array.from(x.values, (v) => Math.round(v * 100));
    const intResult = await onBoth(() => tf.gather(tf.tensor(ints, shape, 'int32'), tf.tensor(ids, indexShape, 'int32')));
    expect(Array.from(intResult.wasm[0].values)).toEqual(Array.from(intResult.cpu[0].values));
  });

  it('other axes (stock kernel) still match cpu', async () => {
    const x = randomTensorData([4, 6, 3]);
    const { cpu, wasm } = await onBoth(() => tf.gather(tf.tensor(x.values, x.shape), tf.tensor1d([5, 0, 5, 2], 'int32'), 1));
    expect(Array.from(wasm[0].values)).toEqual(Array.from(cpu[0].values));
  });

  it('rejects an out-of-range index by value and leaves nothing behind', async () => {
    await initBackend({ backend: 'wasm', log: false });
    const x = tf.tensor2d(randomArray(12), [4, 3]);
    const ids = tf.tensor1d([1, 4], 'int32');
    const before = { tensors: tf.memory().numTensors, dataIds: tf.engine().backend.numDataIds() };
    expect(() => tf.gather(x, ids)).toThrow('GatherV2: the index value 4 is not in [0, 3]');
    expect({ tensors: tf.memory().numTensors, dataIds: tf.engine().backend.numDataIds() }).toEqual(before);
    tf.dispose([x, ids]);
  });
});

describe('UnsortedSegmentSum (gather gradient), both backends', () => {
  /** Reference: segment sums as oneHot(ids)ᵀ · x, on the cpu backend's stock ops. */
  async function reference(x: { shape: number[]; values: Float32Array }, ids: Int32Array, numSegments: number) {
    return (
      await on('cpu', () => {
        const rows = ids.length;
        const flat = tf.reshape(tf.tensor(x.values, x.shape), [rows, -1]);
        const summed = tf.matMul(tf.oneHot(tf.tensor1d(ids, 'int32'), numSegments, 1, 0, 'float32'), flat, true, false);
        return tf.reshape(summed, [numSegments, ...x.shape.slice(1)]);
      })
    )[0];
  }

  it.each([
    ['rows of a matrix', [12, 5], 7],
    ['3-D values', [10, 3, 4], 4],
    ['1-D values', [9], 5],
  ] as [string, number[], number][])('%s', async (_name, shape, numSegments) => {
    const x = randomTensorData(shape);
    const ids = Int32Array.from({ length: shape[0] }, () => rng.int(numSegments + 2) - 1); // includes -1 and numSegments (dropped)
    const expected = await reference(x, ids, numSegments);
    for (const backend of ['cpu', 'wasm'] as const) {
      const [got] = await on(backend, () => tf.unsortedSegmentSum(tf.tensor(x.values, x.shape), tf.tensor1d(ids, 'int32'), numSegments));
      expectClose(got, expected, 1e-6);
    }
  });

  it('gather gradient (embedding lookup) matches cpu and the one-hot formulation', async () => {
    const table = randomTensorData([20, 6]);
    const ids = Int32Array.from({ length: 24 }, () => rng.int(20));
    const w = randomTensorData([4, 6, 6]);
    const loss = (t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor2d(ids, [4, 6], 'int32')), tf.tensor(w.values, w.shape)));
    const { cpu, wasm } = await onBoth(() => tf.grad(loss)(tf.tensor(table.values, table.shape)));
    expectClose(wasm[0], cpu[0]);
    const oneHotGrad = await on('cpu', () => tf.matMul(tf.oneHot(tf.tensor1d(ids, 'int32'), 20, 1, 0, 'float32'), tf.reshape(tf.tensor(w.values, w.shape), [24, 6]), true, false));
    expectClose(cpu[0], oneHotGrad[0]);
  });
});

describe('one tiny training step', () => {
  const vocab = 30;
  const hidden = 8;
  const [batch, seq] = [2, 5];
  const init = {
    embeddings: randomTensorData([vocab, hidden]),
    query: randomTensorData([hidden, hidden]),
    key: randomTensorData([hidden, hidden]),
    out: randomTensorData([hidden, hidden]),
  };
  const inputIds = Int32Array.from({ length: batch * seq }, () => rng.int(vocab));
  const labels = Int32Array.from({ length: batch * seq }, () => rng.int(vocab));

  /** Embedding gather → attention-like batched A·Bᵀ and A·B → projection → tied (A·Bᵀ) decoder → softmax CE. */
  function lossOf(params: tf.Tensor[]): tf.Scalar {
    const [embeddings, query, key, out] = params;
    const x = tf.gather(embeddings, tf.tensor2d(inputIds, [batch, seq], 'int32')); // [b, s, h]
    const q = tf.matMul(x, query);
    const k = tf.matMul(x, key);
    const scores = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(hidden)));
    const mixed = tf.matMul(scores, x);
    const h = tf.tanh(tf.matMul(tf.reshape(mixed, [batch * seq, hidden]), out));
    const logits = tf.matMul(h, embeddings, false, true);
    const targets = tf.oneHot(tf.tensor1d(labels, 'int32'), vocab, 1, 0, 'float32');
    return tf.mean(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1)));
  }

  function step(): tf.Tensor[] {
    const params = Object.values(init).map((p) => tf.tensor(p.values, p.shape));
    const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => lossOf(ps))(params);
    return [value, ...grads];
  }

  it('gives the same loss and gradients on wasm and cpu (within 1e-5)', async () => {
    const { cpu, wasm } = await onBoth(step);
    expect(cpu.length).toBe(5);
    expectClose(wasm[0], cpu[0], 1e-5);
    for (let i = 1; i < cpu.length; i++) expectClose(wasm[i], cpu[i], 1e-5);
    // The embedding gradient comes from both the gather (segment sum) and the tied decoder.
    expect(Math.max(...Array.from(cpu[1].values, Math.abs))).toBeGreaterThan(0);
  });

  it.each(['wasm', 'cpu'] as const)('keeps tf.memory().numTensors flat over 20 SGD steps on %s', async (backend) => {
    await initBackend({ backend, log: false });
    const params = Object.values(init).map((p) => tf.variable(tf.tensor(p.values, p.shape)));
    const counts: number[] = [];
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => lossOf(params), params);
        params.forEach((p) => p.assign(tf.sub(p, tf.mul(grads[p.name], 0.1))));
        return value;
      });
      losses.push(loss.dataSync()[0]);
      loss.dispose();
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    expect(losses[19]).toBeLessThan(losses[0]);
    params.forEach((p) => p.dispose());
  });
});

describe('BatchMatMul gradient with broadcast batch dims (core replaces tfjs-core\'s)', () => {
  it('3-D input · 2-D weight: weight gradient equals the 2-D reshaped formulation', async () => {
    const x = randomTensorData([3, 4, 6]);
    const w = randomTensorData([6, 5]);
    const dy = randomTensorData([3, 4, 5]);
    for (const transposeB of [false, true]) {
      const wShape = transposeB ? [5, 6] : [6, 5];
      const batched = await on('cpu', () =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b, false, transposeB), tf.tensor(dy.values, dy.shape))))([tf.tensor(x.values, x.shape), tf.tensor(w.values, wShape)]),
      );
      // Reference: the same product as one explicit 2-D matmul, gradients by hand (dA = dY·Bᵀ, dB = Aᵀ·dY).
      const reference = await on('cpu', () => {
        const a2 = tf.tensor2d(x.values, [12, 6]);
        const dy2 = tf.tensor2d(dy.values, [12, 5]);
        const b = tf.tensor2d(w.values, [6, 5]);
        const gradB = tf.matMul(a2, dy2, true, false);
        return [tf.reshape(tf.matMul(dy2, b, false, true), [3, 4, 6]), transposeB ? tf.transpose(gradB) : gradB];
      });
      if (transposeB) {
        // Same values, stored transposed: rebuild the reference from the transposed weight.
        const ref = await on('cpu', () => {
          const a2 = tf.tensor2d(x.values, [12, 6]);
          const dy2 = tf.tensor2d(dy.values, [12, 5]);
          const bT = tf.tensor2d(w.values, [5, 6]);
          return [tf.reshape(tf.matMul(dy2, bT), [3, 4, 6]), tf.matMul(dy2, a2, true, false)];
        });
        expectClose(batched[0], ref[0]);
        expectClose(batched[1], ref[1]);
      } else {
        expectClose(batched[0], reference[0]);
        expectClose(batched[1], reference[1]);
      }
    }
  });

  it('[2,1,m,k] · [1,3,k,n]: gradients equal those of explicitly tiled inputs', async () => {
    const a = randomTensorData([2, 1, 3, 4]);
    const b = randomTensorData([1, 3, 4, 2]);
    const w = randomTensorData([2, 3, 3, 2]);
    const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), tf.tensor(w.values, w.shape)));
    const broadcast = await on('cpu', () => tf.grads(loss)([tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape)]));
    const tiled = await on('cpu', () =>
      tf.grads((x: tf.Tensor, y: tf.Tensor) => loss(tf.tile(x, [1, 3, 1, 1]), tf.tile(y, [2, 1, 1, 1])))([tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape)]),
    );
    expectClose(broadcast[0], tiled[0]);
    expectClose(broadcast[1], tiled[1]);
    const wasm = await on('wasm', () => tf.grads(loss)([tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape)]));
    expectClose(wasm[0], tiled[0]);
    expectClose(wasm[1], tiled[1]);
  });
});

/**
 * Spike of a native matmul under the wasm backend (issue 16): tools/bench/native/gemm.c, a Node-API
 * addon over OpenBLAS's cblas_sgemm, is compiled here on first use with the system C compiler when
 * cblas.h and libopenblas are present (Debian: `apt-get install gcc libopenblas-dev`); otherwise
 * `loadGemm` says why and the bench carries on with wasm alone. Nothing in the tests needs it.
 *
 * `installNativeMatMul` registers BatchMatMul and _FusedMatMul (bias, no activation) for the wasm
 * backend that call sgemm on views of the wasm heap (the same memory XNNPACK reads: no copies; BLAS
 * takes the transposes as flags), falling back to core's kernels for anything else (int32, batch dims
 * that broadcast both ways, fused activations).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';

export interface Gemm {
  sgemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transA: boolean, transB: boolean, batch: number, aStride: number, bStride: number, bias: Float32Array | null): void;
  setThreads(n: number): void;
  threads(): number;
}

const nativeDir = path.join(__dirname, '..', 'native');
const source = path.join(nativeDir, 'gemm.c');
const built = path.join(nativeDir, 'build', 'gemm.node');

const CBLAS_DIRS = ['/usr/include/x86_64-linux-gnu/openblas-pthread', '/usr/include/aarch64-linux-gnu/openblas-pthread', '/usr/include/openblas', '/usr/include', '/usr/local/include', '/opt/homebrew/opt/openblas/include'];

/** Compiles gemm.c when needed and loads it; `{ missing }` says why not (no compiler, headers, library). */
export function loadGemm(): { gemm: Gemm } | { missing: string } {
  try {
    if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(source).mtimeMs) {
      const why = build();
      if (why) return { missing: why };
    }
    return { gemm: require(built) as Gemm };
  } catch (error) {
    return { missing: (error as Error).message.split('\n')[0] };
  }
}

function build(): string | undefined {
  const cc = process.env.CC ?? 'cc';
  if (spawnSync(cc, ['--version']).status !== 0) return `no C compiler (${cc})`;
  const nodeInclude = [path.join(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!nodeInclude) return 'Node-API headers (node_api.h) not found next to node';
  const cblas = CBLAS_DIRS.find((d) => fs.existsSync(path.join(d, 'cblas.h')));
  if (!cblas) return 'cblas.h not found (Debian: apt-get install libopenblas-dev)';
  fs.mkdirSync(path.dirname(built), { recursive: true });
  const result = spawnSync(cc, ['-O2', '-shared', '-fPIC', '-o', built, source, `-I${nodeInclude}`, `-I${cblas}`, '-lopenblas'], { encoding: 'utf8' });
  if (result.status !== 0) return `compiling gemm.c failed: ${(result.stderr || result.stdout).trim().split('\n').slice(-2).join(' ')}`;
  return undefined;
}

interface WasmLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type KernelFn = (args: KernelArgs) => tf.TensorInfo;

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** op(a)·op(b) (+ bias) through sgemm on heap views; undefined when the shapes need the fallback. */
function nativeProduct(gemm: Gemm, backend: WasmLike, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, bias?: tf.TensorInfo): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const m = transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
  const k = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const kB = transposeB ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2];
  if (k !== kB || m * n * k === 0) return undefined;
  if (bias && (bias.dtype !== 'float32' || size(bias.shape) !== n)) return undefined;
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  let outBatchShape: number[];
  try {
    outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return undefined;
  }
  const batch = size(outBatchShape);
  if (!(batchA === batchB || batchA === 1 || batchB === 1) || Math.max(batchA, batchB) !== batch) return undefined;
  const out = backend.makeOutput([...outBatchShape, m, n], 'float32');
  // Views after the allocation (it may grow the heap).
  const av = backend.typedArrayFromHeap(a) as Float32Array;
  const bv = backend.typedArrayFromHeap(b) as Float32Array;
  const cv = backend.typedArrayFromHeap(out) as Float32Array;
  const biasView = bias ? (backend.typedArrayFromHeap(bias) as Float32Array) : null;
  if (batchB === 1 && !transposeA && batch > 1) gemm.sgemm(av, bv, cv, batch * m, n, k, false, transposeB, 1, 0, 0, biasView);
  else gemm.sgemm(av, bv, cv, m, n, k, transposeA, transposeB, batch, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n, biasView);
  return out;
}

let installed: { ours: tf.KernelConfig[]; previous: tf.KernelConfig[] } | undefined;

/** Registers the native BatchMatMul / _FusedMatMul on wasm (the active backend must be wasm). */
export function installNativeMatMul(gemm: Gemm, threads: number): void {
  if (installed) return;
  gemm.setThreads(threads);
  const previous = [tf.getKernel(tf.BatchMatMul, 'wasm')!, tf.getKernel(tf._FusedMatMul, 'wasm')!];
  const [bmm, fused] = previous;
  const ours: tf.KernelConfig[] = [
    {
      ...bmm,
      kernelFunc: ((args: KernelArgs) => {
        const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
        const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
        return nativeProduct(gemm, args.backend as WasmLike, a, b, transposeA, transposeB) ?? (bmm.kernelFunc as KernelFn)(args);
      }) as tf.KernelFunc,
    },
    {
      ...fused,
      kernelFunc: ((args: KernelArgs) => {
        const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
        const { transposeA, transposeB, activation } = args.attrs as { transposeA: boolean; transposeB: boolean; activation: string };
        const simple = (activation === 'linear' || !activation) && !preluActivationWeights;
        return (simple ? nativeProduct(gemm, args.backend as WasmLike, a!, b!, transposeA, transposeB, bias) : undefined) ?? (fused.kernelFunc as KernelFn)(args);
      }) as tf.KernelFunc,
    },
  ];
  swap(previous, ours);
  installed = { ours, previous };
}

/** Puts core's wasm kernels back (for in-process A/Bs). */
export function uninstallNativeMatMul(): void {
  if (!installed) return;
  swap(installed.ours, installed.previous);
  installed = undefined;
}

function swap(from: tf.KernelConfig[], to: tf.KernelConfig[]): void {
  for (const k of from) tf.unregisterKernel(k.kernelName, k.backendName);
  for (const k of to) tf.registerKernel(k);
}

/**
 * Chooses where tensors run. Default on Node: the wasm backend (made training-capable by the
 * kernels in ./kernels), `cpu` as the reference, tfjs-node(-gpu) when installed and loadable.
 * `native` is wasm with a registered kernel pack's native kernels over it (./kernel-pack.ts).
 * An experiment config's `backend: { name, threads }` chooses too (backendChoice);
 * PRETRAIN_BACKEND=wasm|cpu|tensorflow|native and PRETRAIN_THREADS override it. The choice is logged once.
 */
import * as tf from '@tensorflow/tfjs-core';
import { installKernelPack, loadKernelPack, requireKernelPack } from './kernel-pack';

export const BACKEND_NAMES = ['wasm', 'cpu', 'tensorflow', 'native'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * The matrix products' precision. float32 everywhere by default; bfloat16 (operands rounded to bf16,
 * float32 sums and outputs) only on backend native built with oneDNN (PRETRAIN_NATIVE_ONEDNN=1), an
 * explicit choice: docs/benchmarks.md measures what it costs in accuracy.
 */
export const PRECISIONS = ['float32', 'bfloat16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** The experiment config's `backend` section (validated by `backendConfigSchema`). */
export interface BackendConfig {
  name?: BackendName;
  threads?: number;
  precision?: Precision;
}

export interface BackendInfo {
  name: BackendName;
  threads: number;
  precision: Precision;
  detail: string;
}

export interface InitBackendOptions {
  backend?: BackendName;
  /** Print the "using backend ..." line (default true, once per process). */
  log?: boolean;
  logger?: (line: string) => void;
  /** wasm: XNNPACK threads (default PRETRAIN_THREADS, else 1 = the single-threaded build); native: the pack's threads (wasm then runs 1). */
  threads?: number;
  /** The products' precision (default PRETRAIN_PRECISION, else float32); bfloat16 needs backend native built with oneDNN. */
  precision?: Precision;
}

let current: BackendInfo | undefined;
/** `current` before its precision was applied (a later precision is applied to this, not to `current`). */
let selected: SelectedBackend | undefined;
let pending: Promise<BackendInfo> | undefined;
let logged = false;

/** Initialises (once) and returns the active backend. Safe to call from every entry point. */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const wanted = options.backend ?? backendFromEnv();
  const precision = options.precision ?? precisionFromEnv();
  if (current && (!wanted || wanted === current.name)) {
    if (!precision || precision === current.precision) return Promise.resolve(current);
    try {
      current = withPrecision(selected!, precision);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(current);
  }
  if (pending && !wanted && !precision) return pending;
  pending = selectBackend(wanted, options.threads ?? threadsFromEnv()).then((backend) => {
    const info = withPrecision(backend, precision ?? 'float32');
    selected = backend;
    current = info;
    if (options.log !== false && !logged) {
      logged = true;
      (options.logger ?? ((line: string) => process.stderr.write(`${line}\n`)))(`[pretrain] backend: ${info.name} (${info.threads} thread${info.threads === 1 ? '' : 's'}; ${info.detail})`);
    }
    return info;
  });
  return pending;
}

/** A backend as set up, before its products' precision is applied. */
type SelectedBackend = Omit<BackendInfo, 'precision'>;

export function currentBackend(): BackendInfo | undefined {
  return current;
}

/** What to pass to initBackend for a config's `backend` section: the environment variables win over it. */
export function backendChoice(config: BackendConfig = {}): Pick<InitBackendOptions, 'backend' | 'threads' | 'precision'> {
  return { backend: backendFromEnv() ?? config.name, threads: threadsFromEnv() ?? config.threads, precision: precisionFromEnv() ?? config.precision };
}

function precisionFromEnv(): Precision | undefined {
  const value = process.env.PRETRAIN_PRECISION;
  if (!value) return undefined;
  if ((PRECISIONS as readonly string[]).includes(value)) return value as Precision;
  throw new Error(`PRETRAIN_PRECISION must be one of ${PRECISIONS.join(', ')}; got "${value}"`);
}

/** The backend with its products at `precision`: only a kernel pack that offers it (native with oneDNN) runs bfloat16. */
function withPrecision(info: SelectedBackend, precision: Precision): BackendInfo {
  if (info.name === 'native') {
    const pack = requireKernelPack('native');
    const offered = pack.precisions ?? ['float32'];
    if (precision === 'float32' && !pack.setPrecision) return { ...info, precision }; // a pack with one precision
    if (!offered.includes(precision) || !pack.setPrecision) throw new Error(`precision ${precision} is not available on backend native here (it runs ${offered.join(', ')}); bfloat16 needs @pretrain/backend-native built with oneDNN: apt-get install libdnnl-dev, then PRETRAIN_NATIVE_ONEDNN=1 npx pretrain-build-native`);
    pack.setPrecision(precision);
    return { ...info, precision, detail: precision === 'bfloat16' ? `bfloat16 products; ${info.detail}` : info.detail };
  }
  if (precision !== 'float32') throw new Error(`precision ${precision} needs backend native (@pretrain/backend-native built with oneDNN); backend ${info.name} runs float32`);
  // An installed pack's kernels stay registered over wasm for the process: they must not keep bfloat16.
  const pack = info.name === 'wasm' ? loadKernelPack('native') : undefined;
  if (pack && !('missing' in pack)) pack.setPrecision?.('float32');
  return { ...info, precision };
}

function backendFromEnv(): BackendName | undefined {
  const value = process.env.PRETRAIN_BACKEND;
  if (!value) return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`PRETRAIN_BACKEND must be one of ${BACKEND_NAMES.join(', ')}; got "${value}"`);
}

/**
 * TF.js's cpu backend is loaded with core (it is small, and TF.js needs a backend to start on); core's
 * own kernels for it are registered by initBackend, like every backend's.
 */
function prepareCpuBackend(): void {
  require('@tensorflow/tfjs-backend-cpu');
  silenceTfjsNodeBanner();
}
prepareCpuBackend();

async function selectBackend(wanted: BackendName | undefined, threads: number | undefined): Promise<SelectedBackend> {
  if (wanted === 'tensorflow' || wanted === undefined) {
    const native = await tryTensorflowNode();
    if (native) return native;
    if (wanted === 'tensorflow') throw new Error('PRETRAIN_BACKEND=tensorflow, but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node could be loaded');
  }
  if (wanted === 'cpu') return useCpu();
  if (wanted === 'native') return useNative(threads);
  const wasm = await useWasm(threads);
  // A registered pack that cannot load here says why the faster path is not used.
  const pack = loadKernelPack('native');
  return pack && 'missing' in pack ? { ...wasm, detail: `${wasm.detail}; native kernels unavailable: ${pack.missing}` } : wasm;
}

/** wasm's tensors and kernels with the native pack's over them; the pack's pool gets the threads. */
async function useNative(threads: number | undefined): Promise<SelectedBackend> {
  const wanted = Math.max(1, Math.floor(threads ?? 1));
  requireKernelPack('native');
  const wasm = await useWasm(1);
  const pack = installKernelPack('native', wanted);
  return { name: 'native', threads: wanted, detail: `${pack.detail}; wasm ${wasm.detail} for the rest` };
}

async function tryTensorflowNode(): Promise<SelectedBackend | undefined> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require(pkg);
    } catch {
      continue;
    }
    if (await tf.setBackend('tensorflow')) return { name: 'tensorflow', threads: 0, detail: pkg };
  }
  return undefined;
}

async function useCpu(): Promise<SelectedBackend> {
  const { registerCpuKernels } = require('./kernels/cpu') as typeof import('./kernels/cpu');
  registerCpuKernels();
  if (!(await tf.setBackend('cpu'))) throw new Error('could not initialise the cpu backend');
  return { name: 'cpu', threads: 1, detail: 'pure JS reference' };
}

async function useWasm(threads: number | undefined): Promise<SelectedBackend> {
  const { setupWasmBackend } = require('./kernels/wasm') as typeof import('./kernels/wasm');
  return setupWasmBackend({ threads });
}

function threadsFromEnv(): number | undefined {
  const value = process.env.PRETRAIN_THREADS;
  if (!value) return undefined;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`PRETRAIN_THREADS must be a positive integer; got "${value}"`);
  return threads;
}

/**
 * The cpu backend prints an "install tfjs-node" banner on its first tensor in Node; it is noise
 * for our users (tfjs-node is optional here). Clearing its first-use flag silences exactly that
 * message; setting IS_TEST instead would also turn on per-kernel leak checks.
 */
function silenceTfjsNodeBanner(): void {
  if (!tf.findBackendFactory('cpu')) return;
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

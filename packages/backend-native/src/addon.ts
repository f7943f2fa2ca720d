/**
 * The native code (native/pretrain_native.c, a Node-API addon over OpenBLAS) and where it is found:
 * first a prebuilt binary package for this platform (@pretrain/backend-native-<platform>-<arch>, the
 * way esbuild and @swc/core ship theirs), then the one the package build compiled (build/, see
 * scripts/build-native.js). Neither is required: without one, `loadAddon` says why and the wasm
 * backend is used.
 */
import type { CKernelFunctions } from '@pretrain/core';
import * as fs from 'fs';
import * as path from 'path';

/** The addon: core's C kernel functions (CKernelFunctions, each in place on views of the wasm heap) and its thread pool. */
export interface NativeAddon extends CKernelFunctions {
  setThreads(threads: number): void;
  /** The products' precision: "float32" (the default) or "bfloat16" (a build with oneDNN: see precisions()). */
  setPrecision(precision: Precision): void;
  precision(): Precision;
  /** The precisions this build runs: ["float32"], plus "bfloat16" when built with oneDNN (PRETRAIN_NATIVE_ONEDNN=1). */
  precisions(): Precision[];
  threads(): number;
  /** OpenBLAS's build string, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64". */
  config(): string;
}

export type Precision = 'float32' | 'bfloat16';

export const ADDON_FILE = 'pretrain_native.node';

/** The prebuilt binary package for this platform. */
export function prebuiltPackage(platform: string = process.platform, arch: string = process.arch): string {
  return `@pretrain/backend-native-${platform}-${arch}`;
}

/** The binary the package build writes (found through the package's own package.json, so bundlers that move this file do not lose it). */
export const localBuild = path.join(packageRoot(), 'build', ADDON_FILE);

function packageRoot(): string {
  try {
    // A run-time lookup of this package's own folder (bundlers move this file away from build/), not an import.
    // eslint-disable-next-line @nx/enforce-module-boundaries
    return path.dirname(require.resolve('@pretrain/backend-native/package.json'));
  } catch {
    return path.join(__dirname, '..');
  }
}

const FUNCTIONS: (keyof NativeAddon)[] = ['sgemm', 'layerNorm', 'layerNormGrad', 'softmaxXent', 'softmaxXentGrad', 'columnSum', 'erf', 'adamw', 'gelu', 'linearXent', 'binary', 'dropoutMask', 'setThreads', 'threads', 'setPrecision', 'precision', 'precisions', 'config'];

/** Candidate binaries, in the order they are tried. */
export function addonCandidates(): string[] {
  const candidates: string[] = [];
  try {
    candidates.push(require.resolve(`${prebuiltPackage()}/${ADDON_FILE}`));
  } catch {
    // no prebuilt package for this platform installed
  }
  if (fs.existsSync(localBuild)) candidates.push(localBuild);
  return candidates;
}

let cached: { addon: NativeAddon; file: string } | { missing: string } | undefined;

/** Loads the addon once; `{ missing }` says why it cannot be used here. */
export function loadAddon(): { addon: NativeAddon; file: string } | { missing: string } {
  if (cached) return cached;
  const candidates = addonCandidates();
  if (candidates.length === 0) {
    cached = {
      missing: `no native binary for ${process.platform}-${process.arch}: install ${prebuiltPackage()}, or build one with \`npx pretrain-build-native\` (needs a C compiler and OpenBLAS; Debian: apt-get install gcc libopenblas-dev)`,
    };
    return cached;
  }
  // The addon splits products across its own threads and keeps OpenBLAS at 1 thread (pretrain_native.c,
  // sgemm_run): OpenBLAS's pool would start idle workers for every core when it loads. A value already set wins.
  process.env.OPENBLAS_NUM_THREADS ??= '1';
  // Likewise oneDNN (a binary built with PRETRAIN_NATIVE_ONEDNN=1; bfloat16 products): it runs inside the pool's
  // blocks on one OpenMP thread, which must not spin between products.
  process.env.OMP_NUM_THREADS ??= '1';
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  const failures: string[] = [];
  for (const file of candidates) {
    try {
      const addon = require(file) as NativeAddon;
      const absent = FUNCTIONS.filter((name) => typeof addon[name] !== 'function');
      if (absent.length > 0) throw new Error(`${file} lacks ${absent.join(', ')} (built from an older source? rebuild it)`);
      cached = { addon, file };
      return cached;
    } catch (error) {
      failures.push(`${file}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  cached = { missing: `the native binary does not load: ${failures.join('; ')}` };
  return cached;
}

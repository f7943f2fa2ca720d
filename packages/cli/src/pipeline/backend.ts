import * as os from 'os';
import { backendChoice, kernelPackAvailable, registerKernelPack, type BackendConfig } from '@pretrain/core';
import { nativeKernels } from '@pretrain/backend-native';

/**
 * The CLI's backend: the environment, then the config's `backend`, then the fastest path here —
 * `native` (@pretrain/backend-native's OpenBLAS and C kernels over wasm) when its binary loads, else
 * `wasm` (whose first line then says why native is not used) — on both cores (at most 2 threads).
 * On an idle 2-core machine 2 wasm threads made training steps 0.72–0.98× the 1-thread wall time,
 * alternating in one bench run (docs/benchmarks.md, "Both cores?"); core's initBackend() keeps wasm on
 * 1 thread, for programs that share the machine.
 */
export function cliBackendChoice(config?: BackendConfig): ReturnType<typeof backendChoice> {
  registerKernelPack(nativeKernels);
  const choice = backendChoice(config);
  return { backend: choice.backend ?? (kernelPackAvailable('native') ? 'native' : undefined), threads: choice.threads ?? Math.min(2, os.availableParallelism()), precision: choice.precision };
}

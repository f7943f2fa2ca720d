/**
 * Identity that shares its input's heap buffer instead of copying it.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { KernelFn, WasmBackendLike } from './types';

/**
 * Identity shares the input's heap buffer (as the cpu backend and wasm's own Reshape do) instead of
 * copying it: gradients pass through Identity for every op, ~130 copies per training step.
 */
export function identityWasm(stock: KernelFn): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return stock(args);
    (args.backend as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

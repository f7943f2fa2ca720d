/** core's optional PretrainDropoutMask: Rng.fillDropoutMask's generator in C, writing the mask straight into a tensor. */
import { DROPOUT_MASK, type DropoutMaskAttrs } from '../optional';
import type { PackKernel, PackKernelFn } from '../../kernel-pack';
import type { CKernelFunctions } from './functions';
import { floatsOf, intsOf, type WasmHeap } from './heap';

export function dropoutMaskKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: DROPOUT_MASK,
    why: 'the keep/drop draws in C (the same xoshiro128** stream), no host array copied in',
    make: (): PackKernelFn => ({ backend, attrs }) => {
      const { shape, state, threshold, scale } = attrs as unknown as DropoutMaskAttrs;
      const heap = backend as WasmHeap;
      const mask = heap.makeOutput(shape, 'float32');
      const next = heap.makeOutput([4], 'int32');
      const nextState = intsOf(heap, next);
      nextState.set(state.map((s) => s | 0));
      addon.dropoutMask(nextState, floatsOf(heap, mask), threshold, scale);
      return [mask, next];
    },
  };
}

/** The parts of tfjs-backend-wasm's backend the native kernels use: outputs on the wasm heap and views of it. */
import type * as tf from '@tensorflow/tfjs-core';

export interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export const floatsOf = (heap: WasmHeap, info: tf.TensorInfo) => heap.typedArrayFromHeap(info) as Float32Array;
export const intsOf = (heap: WasmHeap, info: tf.TensorInfo) => heap.typedArrayFromHeap(info) as Int32Array;

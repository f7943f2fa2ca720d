/**
 * Reading inputs and allocating outputs the same way on the wasm heap and the cpu backend's arrays,
 * for core's own kernels (the fused loss, LayerNorm): their loops run on plain typed arrays.
 */
import * as tf from '@tensorflow/tfjs-core';

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array | Int32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

export type Io = {
  read(info: tf.TensorInfo): Float32Array | Int32Array;
  /** Allocates an output and runs `fill` on its array; returns the output. */
  output(shape: number[], fill: (values: Float32Array) => void): tf.TensorInfo;
};

export function ioFor(backendName: string, backend: unknown): Io {
  if (backendName === 'wasm') {
    const heap = backend as HeapBackend;
    return {
      read: (info) => heap.typedArrayFromHeap(info) as Float32Array | Int32Array,
      output: (shape, fill) => {
        const out = heap.makeOutput(shape, 'float32');
        fill(heap.typedArrayFromHeap(out) as Float32Array);
        return out;
      },
    };
  }
  const cpu = backend as CpuBackend;
  return {
    read: (info) => cpu.data.get(info.dataId).values,
    output: (shape, fill) => {
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
      fill(values);
      return cpu.makeTensorInfo(shape, 'float32', values);
    },
  };
}

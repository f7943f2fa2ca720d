/** The parts of tfjs-backend-wasm's BackendWasm that core's wasm kernels use. */
import type * as tf from '@tensorflow/tfjs-core';

export type HeapArray = Float32Array | Int32Array | Uint8Array;

export interface WasmModule {
  cwrap(name: string, returnType: null | string, argTypes: string[]): (...args: unknown[]) => unknown;
  tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
}

export interface WasmTensorData {
  id: number;
  memoryOffset: number;
  /** The shape the data was created with (reshapes share the data under other shapes). */
  shape: number[];
  dtype: tf.DataType;
  refCount: number;
}

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
export interface WasmBackendLike {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): WasmTensorData; set(dataId: object, data: WasmTensorData): void; delete(dataId: object): boolean };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  typedArrayFromHeap(info: tf.TensorInfo): HeapArray;
}

export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

export type KernelFn = (args: KernelArgs) => tf.TensorInfo;

/**
 * Matrix-product shapes every backend's BatchMatMul is checked on against the cpu reference:
 * [name, a shape, b shape, transposeA, transposeB]. Transposes, batches, broadcast batch dims (both
 * ways), the dense-layer and weight-gradient shapes, vectors, and the shapes core's wasm kernel rewrites.
 */
export type MatMulCase = [name: string, a: number[], b: number[], transposeA: boolean, transposeB: boolean];

export const MATMUL_PARITY_CASES: MatMulCase[] = [
  ['2-D', [13, 17], [17, 11], false, false],
  ['A·Bᵀ', [13, 17], [11, 17], false, true],
  ['Aᵀ·B', [17, 13], [17, 11], true, false],
  ['Aᵀ·Bᵀ', [17, 13], [11, 17], true, true],
  ['batched', [3, 5, 7], [3, 7, 4], false, false],
  ['batched A·Bᵀ (attention scores)', [2, 3, 8, 4], [2, 3, 8, 4], false, true],
  ['batched Aᵀ·B', [6, 7, 5], [6, 7, 4], true, false],
  ['batched Aᵀ·Bᵀ', [4, 7, 5], [4, 3, 7], true, true],
  ['3-D · 2-D (dense layer)', [4, 6, 9], [9, 5], false, false],
  ['3-D · 2-Dᵀ', [4, 6, 9], [5, 9], false, true],
  ['3-Dᵀ · 3-D (weight gradient)', [4, 9, 6], [4, 9, 5], true, false],
  ['2-D · 3-D (broadcast A)', [6, 9], [4, 9, 5], false, false],
  ['broadcast batch dims [2,1] × [1,3]', [2, 1, 4, 5], [1, 3, 5, 2], false, false],
  ['broadcast batch dims [3,1]ᵀ × [1,2]ᵀ', [3, 1, 5, 4], [1, 2, 2, 5], true, true],
  ['row vector', [1, 64], [64, 33], false, false],
  ['column result', [33, 64], [1, 64], false, true],
  ['inner dimension 1', [8, 1], [1, 8], false, false],
  ['Aᵀ·B with many rows (weight gradient: computed as (Bᵀ·A)ᵀ)', [300, 24], [300, 10], true, false],
  ['A·Bᵀ with a small A (computed as (B·Aᵀ)ᵀ)', [3, 64], [40, 64], false, true],
  ['3-D batch-1 Aᵀ·B', [1, 200, 16], [1, 200, 12], true, false],
];

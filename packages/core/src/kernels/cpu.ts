/**
 * Kernel replacements for the cpu backend: one file per kernel under kernels/cpu/, registered from the
 * CPU_KERNELS list (UnsortedSegmentSum in one pass; BatchMatMul correct for batch dims that broadcast
 * both ways).
 */
export { CPU_KERNELS, registerCpuKernels, type CpuKernelSpec } from './cpu/index';

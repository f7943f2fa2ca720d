/** Kernel replacements for the cpu backend (fast UnsortedSegmentSum). Filled in by the backend work. */
export function registerCpuKernels(): void {}

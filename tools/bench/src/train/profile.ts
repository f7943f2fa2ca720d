/**
 * Per-kernel **CPU** time of one training step: every kernel registered for the active backend is
 * wrapped (for the duration of the step) with a process.cpuUsage() difference. Unlike tf.profile's
 * wall times, CPU time is not inflated by other jobs taking the core, so the shares stay meaningful
 * on a shared machine. Use it with 1 thread (with helper threads, CPU time counts them too).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface KernelCpu {
  name: string;
  ms: number;
  /** Wall ms (with helper threads, less than CPU ms where the kernel ran on several cores). */
  wallMs: number;
  count: number;
}

export interface CpuProfile {
  /** CPU ms of the whole step. */
  stepMs: number;
  /** Wall ms of the whole step. */
  stepWallMs: number;
  kernels: KernelCpu[];
  /** CPU ms, wall ms and calls per kernel and input shapes, largest first. */
  byShape: (KernelCpu & { shapes: string })[];
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/** Profiles `steps` steps and reports the mean per step (one step alone is noisy). */
export function cpuProfileStep(step: () => void, steps = 1): CpuProfile {
  const backendName = tf.getBackend();
  const originals = tf.getKernelsForBackend(backendName);
  const totals = new Map<string, KernelCpu>();
  const calls: { name: string; shapes: string; ms: number; wallMs: number }[] = [];
  for (const config of originals) {
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({
      ...config,
      kernelFunc: ((args: { inputs: tf.NamedTensorInfoMap }) => {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const out = (config.kernelFunc as (a: unknown) => unknown)(args);
        const ms = cpuMs(c0);
        const wallMs = performance.now() - t0;
        const entry = totals.get(config.kernelName) ?? { name: config.kernelName, ms: 0, wallMs: 0, count: 0 };
        entry.ms += ms;
        entry.wallMs += wallMs;
        entry.count++;
        totals.set(config.kernelName, entry);
        calls.push({ name: config.kernelName, shapes: Object.values(args.inputs).map((t) => `[${t?.shape ?? ''}]`).join(' '), ms, wallMs });
        return out;
      }) as tf.KernelFunc,
    });
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  try {
    for (let i = 0; i < steps; i++) step();
  } finally {
    for (const config of originals) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
  }
  const stepMs = cpuMs(c0) / steps;
  const stepWallMs = (performance.now() - t0) / steps;
  const byShape = new Map<string, KernelCpu & { shapes: string }>();
  for (const c of calls) {
    const key = `${c.name} ${c.shapes}`;
    const entry = byShape.get(key) ?? { ...c, ms: 0, wallMs: 0, count: 0 };
    entry.ms += c.ms;
    entry.wallMs += c.wallMs;
    entry.count++;
    byShape.set(key, entry);
  }
  // Means per step.
  for (const entry of [...totals.values(), ...byShape.values()]) {
    entry.ms /= steps;
    entry.wallMs /= steps;
    entry.count /= steps;
  }
  return {
    stepMs,
    stepWallMs,
    kernels: [...totals.values()].sort((a, b) => b.ms - a.ms),
    byShape: [...byShape.values()].sort((a, b) => b.ms - a.ms),
  };
}

const GROUPS: [string, RegExp][] = [
  ['matmuls (BatchMatMul, _FusedMatMul)', /^(BatchMatMul|_FusedMatMul)$/],
  ['softmax cross-entropy (fused loss)', /^Pretrain(SoftmaxCrossEntropy|LinearCrossEntropy)/],
  ['attention softmax', /^Softmax$/],
  ['gather / segment sum / one-hot', /^(GatherV2|UnsortedSegmentSum|OneHot)$/],
  ['transposes, reshapes, slices, copies', /^(Transpose|Reshape|Slice|Identity|Concat|Pad|Tile|Cast|Fill|Range)$/],
  ['reductions (Sum, Mean, Max)', /^(Sum|Mean|Max|Min|ArgMax|Prod)$/],
  ['exp-like (Sigmoid, Erf, Exp, Tanh, Log, Rsqrt, Sqrt)', /^(Sigmoid|Erf|Exp|Tanh|Log|Rsqrt|Sqrt)$/],
];

/** Prints the profile: groups of kernels, the top kernels and the slowest calls (CPU and wall ms). */
export function printCpuProfile(profile: CpuProfile): void {
  const inKernels = profile.kernels.reduce((s, k) => s + k.ms, 0);
  const inKernelsWall = profile.kernels.reduce((s, k) => s + k.wallMs, 0);
  const calls = profile.kernels.reduce((s, k) => s + k.count, 0);
  const pct = (ms: number) => `${((100 * ms) / profile.stepMs).toFixed(0)}%`;
  const pctWall = (ms: number) => `${((100 * ms) / profile.stepWallMs).toFixed(0)}%`;
  const outside = profile.stepMs - inKernels;
  const outsideWall = profile.stepWallMs - inKernelsWall;
  console.log(`  profile of one step: ${profile.stepMs.toFixed(0)} ms CPU / ${profile.stepWallMs.toFixed(0)} ms wall; ${inKernels.toFixed(0)} ms CPU / ${inKernelsWall.toFixed(0)} ms wall in ${calls} kernel calls; ${outside.toFixed(0)} ms CPU / ${outsideWall.toFixed(0)} ms wall outside kernels (JS: batches, dropout masks, autodiff bookkeeping, AdamW glue)`);
  const grouped = new Map<string, { ms: number; wallMs: number; count: number }>();
  for (const k of profile.kernels) {
    const group = GROUPS.find(([, re]) => re.test(k.name))?.[0] ?? 'element-wise (Add, Mul, Sub, Div, …) and the rest';
    const entry = grouped.get(group) ?? { ms: 0, wallMs: 0, count: 0 };
    entry.ms += k.ms;
    entry.wallMs += k.wallMs;
    entry.count += k.count;
    grouped.set(group, entry);
  }
  console.log('  | kernels | calls | CPU ms | share of CPU | wall ms | share of wall |');
  console.log('  |---|---:|---:|---:|---:|---:|');
  for (const [group, { ms, wallMs, count }] of [...grouped].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  | ${group} | ${count} | ${ms.toFixed(1)} | ${pct(ms)} | ${wallMs.toFixed(1)} | ${pctWall(wallMs)} |`);
  console.log(`  | outside kernels | | ${outside.toFixed(1)} | ${pct(outside)} | ${outsideWall.toFixed(1)} | ${pctWall(outsideWall)} |`);
  console.log('  top kernels (CPU ms, wall ms):');
  for (const k of profile.kernels.slice(0, 15)) console.log(`    ${k.name.padEnd(30)} ${k.count.toFixed(1).padStart(6)}× ${k.ms.toFixed(1).padStart(7)} ms ${k.wallMs.toFixed(1).padStart(7)} ms  ${pct(k.ms)}`);
  console.log('  heaviest kernel × input shapes (all calls; CPU ms, wall ms):');
  for (const c of profile.byShape.slice(0, Number(process.env.PROFILE_ROWS ?? 20))) console.log(`    ${c.ms.toFixed(1).padStart(7)} ms ${c.wallMs.toFixed(1).padStart(7)} ms ${c.count.toFixed(1).padStart(5)}× ${c.name} ${c.shapes}`);
}

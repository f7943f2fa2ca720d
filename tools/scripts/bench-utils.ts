/**
 * Helpers shared by the packages' benchmark scripts (bundled in by tools/scripts/run-ts.js):
 * wall-clock timing, command-line options, a per-kernel profile and the benches' training loss.
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs-core';
import { expOfNonPositive } from '@pretrain/core';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs `fn` `warmup` times untimed, then `runs` times; returns each timed run's milliseconds. */
export function timeRuns(fn: () => void, runs: number, warmup = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times;
}

/** Median CPU milliseconds (user + system) of `runs` calls after one untimed call: robust to other jobs on the machine. */
export function cpuMs(fn: () => void, runs: number): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.cpuUsage();
    fn();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  return median(times);
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length} (${os.platform()} ${os.arch()}), Node ${process.version}`;
}

export function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

/**
 * Runs `step` `runs` times: each run's loss, wall milliseconds and process CPU milliseconds (all threads).
 * `afterEach` runs after each timed step, outside the timing.
 */
export function timeSteps(step: () => number, runs: number, afterEach?: () => void): { losses: number[]; times: number[]; cpuTimes: number[] } {
  const losses: number[] = [];
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    losses.push(step());
    const cpu = process.cpuUsage(cpu0);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    times.push(performance.now() - t0);
    afterEach?.();
  }
  return { losses, times, cpuTimes };
}

/** Time and call count per kernel name, largest total time first. */
export function kernelTimes(kernels: Awaited<ReturnType<typeof tf.profile>>['kernels']): [string, { ms: number; count: number }][] {
  const byKernel = new Map<string, { ms: number; count: number }>();
  for (const k of kernels) {
    const entry = byKernel.get(k.name) ?? { ms: 0, count: 0 };
    entry.ms += k.kernelTimeMs as number;
    entry.count++;
    byKernel.set(k.name, entry);
  }
  return [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
}

/** Per-kernel time of one step (tf.profile), largest first, with the slowest individual calls. */
export async function profileStep(step: () => number): Promise<void> {
  const profile = await tf.profile(() => {
    step();
  });
  const total = profile.kernels.reduce((sum, k) => sum + (k.kernelTimeMs as number), 0);
  console.log(`  profile: ${profile.kernels.length} kernels, ${total.toFixed(0)} ms in kernels`);
  for (const [name, { ms, count }] of kernelTimes(profile.kernels).slice(0, 15)) console.log(`    ${name.padEnd(22)} ${String(count).padStart(4)}× ${ms.toFixed(1)} ms`);
  const slowest = [...profile.kernels].sort((a, b) => (b.kernelTimeMs as number) - (a.kernelTimeMs as number)).slice(0, 15);
  for (const k of slowest) console.log(`    ${(k.kernelTimeMs as number).toFixed(1).padStart(7)} ms ${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')}`);
}

/**
 * Mean cross-entropy with its gradient written out (softmax - onehot) / rows: one exp pass, and no
 * gradient through max/logSumExp (whose broadcast Equal mask is very slow on wasm).
 */
export function crossEntropyWithExplicitGrad(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const [rows, classes] = logits.shape;
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const logitsIn = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const max = tf.max(logitsIn, -1, true);
    const exp = expOfNonPositive(tf.sub(logitsIn, max)); // wasm's exp is a slow scalar loop
    const sum = tf.sum(exp, -1, true);
    const flatIndex = tf.add(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(classes, 'int32')), targets);
    const picked = tf.gather(tf.reshape(logitsIn, [-1]), flatIndex);
    const value = tf.mean(tf.sub(tf.reshape(tf.add(tf.log(sum), max), [rows]), picked)) as tf.Scalar;
    save([tf.div(exp, sum), targets]);
    return { value, gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => tf.mul(tf.sub(saved[0], tf.oneHot(saved[1] as tf.Tensor1D, classes)), tf.div(dy, rows)) };
  });
  return loss(logits) as tf.Scalar;
}

/**
 * Training-step speed through the real plugins, against a plain-PyTorch peer run in the same window:
 *   bert-mini: BertModel + MLM (logits at masked positions, tied decoder) + NSP, AdamW
 *   gpt-mini:  Gpt2Model + CLM (every position), AdamW
 *   nanogpt:   nanoGPT's CPU recipe — GPT, 4 layers, 4 heads, width 128, block 64, batch 12, dropout 0,
 *              character vocabulary (65), CLM, AdamW
 *
 *   node tools/bench/run.js train [--config bert-mini,gpt-mini,nanogpt] [--threads 1,2] [--blocks 6] [--block-steps N] [--no-peer] [--native]
 *     For each workload, ours and the PyTorch peer (tools/bench/peer/train_peer.py, when a python3
 *     with torch is found) at each thread count run as separate processes, all alive at once; blocks of
 *     steps rotate through them so they share the machine's load, and the table prints ours/PyTorch
 *     (ratio of the medians, wall and CPU time) and ours 2 threads / 1 thread. Without torch: ours alone.
 *     --native adds ours on backend "native" (@pretrain/backend-native, built by the workspace build when a C
 *     compiler and libopenblas-dev are present, else a one-line notice) as more contestants.
 *   node tools/bench/run.js train --solo [--config ...] [--threads N] [--steps N] [--profile [--profile-steps N]] [--wall-profile] [--native] [--batch N]
 *     One process, ours only: ms/step, model GFLOP/s, the tensor count after every step and peak RSS
 *     (`--solo --config bert-mini --steps 200` is the memory check); --profile: per-kernel CPU time of
 *     one step (robust to other jobs on the machine); --wall-profile: tf.profile's wall times; --batch N:
 *     another batch size (two --threads 1 processes at half the batch, run at once, bound what data-parallel
 *     workers could reach).
 */
import * as os from 'os';
import * as readline from 'readline';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, registerKernelPack } from '@pretrain/core';
import { loadAddon, nativeKernels } from '@pretrain/backend-native';
import { machineDescription, median, option, profileStep, timeSteps } from '../../scripts/bench-utils';
import { medianMs } from './timing';
import { Contestant, findTorchPython, peerEnv, peerScript } from './train/contestants';
import { cpuProfileStep, printCpuProfile } from './train/profile';
import { makeStep, WORKLOADS, type Workload } from './train/workloads';

const DEFAULT_BLOCK_STEPS: Record<string, number> = { 'bert-mini': 2, 'gpt-mini': 2, nanogpt: 6 };

function workload(key: string): Workload {
  const make = WORKLOADS[key];
  if (!make) throw new Error(`unknown --config ${key}; known: ${Object.keys(WORKLOADS).join(', ')}`);
  const batch = process.argv.includes('--batch') ? Number(option('batch', '0')) : undefined;
  if (batch !== undefined && !(Number.isInteger(batch) && batch > 0)) throw new Error(`--batch must be a positive integer, got ${option('batch', '')}`);
  return make(batch);
}

function disposeWorkload(w: Workload, dispose: () => void): void {
  dispose();
  w.backbone.dispose();
  w.objectives.forEach((o) => o.dispose());
}

// ---------------------------------------------------------------------------------------------
// --worker: one workload, driven over stdin ("steps N" / "quit"), JSON lines on stdout

async function worker(): Promise<void> {
  const threads = Number(option('threads', '1'));
  const native = process.argv.includes('--native');
  // backend "native": @pretrain/backend-native's kernels on the single-threaded wasm build's heap; OpenBLAS gets the threads.
  if (native) registerKernelPack(nativeKernels);
  const info = await initBackend({ backend: native ? 'native' : 'wasm', threads, log: false });
  const w = workload(option('config', 'bert-mini'));
  const { step, dispose } = makeStep(w, 1);
  for (let i = 0; i < Number(option('warmup', '2')); i++) step();
  const warm = tf.memory().numTensors;
  const say = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  say({ ready: true, name: `${w.name}, batch ${w.batch} × ${w.seq}, vocab ${w.vocab}`, detail: `${info.name} (${info.threads} thread${info.threads === 1 ? '' : 's'}; ${info.detail})`, threads: info.threads });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [command, count] = line.trim().split(/\s+/);
    if (command === 'steps') {
      const counts: number[] = [];
      const { losses, times, cpuTimes } = timeSteps(step, Number(count), () => counts.push(tf.memory().numTensors));
      say({ times, cpu: cpuTimes, loss: losses[losses.length - 1], tensors: [Math.min(...counts), Math.max(...counts)], flat: counts.every((n) => n === warm) });
    } else if (command === 'quit') break;
  }
  disposeWorkload(w, dispose);
  say({ peakRssMiB: process.resourceUsage().maxRSS / 2 ** 10 });
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// default: ours and the PyTorch peer alternating

interface Row {
  workload: string;
  threads: number;
  /** 'wasm', or 'native' (@pretrain/backend-native's kernels over wasm). */
  kind: 'wasm' | 'native';
  ours: Contestant;
  peer?: Contestant;
  peakRssMiB?: number;
}

/** Ratio of the medians of all timed steps (wall, or CPU with `cpu`). */
function ratio(a: Contestant, b: Contestant, cpu = false): number {
  return cpu ? median(a.cpu) / median(b.cpu) : median(a.times) / median(b.times);
}

async function compare(): Promise<void> {
  const args = process.argv.slice(2);
  const keys = option('config', 'bert-mini,gpt-mini,nanogpt').split(',');
  const threadCounts = option('threads', '1,2').split(',').map(Number);
  const blocks = Number(option('blocks', '6'));
  const torch = args.includes('--no-peer') ? { missing: '--no-peer' } : findTorchPython();
  const kinds: Row['kind'][] = ['wasm'];
  if (args.includes('--native')) {
    const loaded = loadAddon();
    if ('missing' in loaded) console.log(`backend native (--native): not available (${loaded.missing}); wasm only`);
    else kinds.push('native');
  }
  const load = os.loadavg()[0];
  console.log(`machine: ${machineDescription()}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the start`);
  if ('missing' in torch) console.log(`PyTorch peer: not available (${torch.missing}); install python3 with torch (Debian: apt-get install python3-torch) for the ours/PyTorch ratios. Ours alone:`);
  else console.log(`PyTorch peer: ${torch.python}, torch ${torch.version} (tools/bench/peer/train_peer.py; OMP_WAIT_POLICY=${peerEnv(1).OMP_WAIT_POLICY})`);
  const rows: Row[] = [];
  for (const key of keys) {
    if (!WORKLOADS[key]) throw new Error(`unknown --config ${key}; known: ${Object.keys(WORKLOADS).join(', ')}`);
    const blockSteps = Number(option('block-steps', String(DEFAULT_BLOCK_STEPS[key] ?? 2)));
    const group: Row[] = threadCounts.flatMap((threads) => {
      const peer = 'missing' in torch ? undefined : new Contestant(`PyTorch ${threads} thr`, torch.python, [peerScript(), '--config', key, '--threads', String(threads)], peerEnv(threads));
      return kinds.map((kind) => ({
        workload: key,
        threads,
        kind,
        ours: new Contestant(`ours${kind === 'native' ? '+native' : ''} ${threads} thr`, process.execPath, [process.argv[1], '--worker', '--config', key, '--threads', String(threads), ...(kind === 'native' ? ['--native'] : [])], process.env),
        peer,
      }));
    });
    const contestants = [...new Set(group.flatMap((r) => (r.peer ? [r.ours, r.peer] : [r.ours])))];
    try {
      // Warm-ups overlap (untimed); the timed blocks below run one contestant at a time.
      await Promise.all(contestants.map((c) => c.waitReady()));
      for (let b = 0; b < blocks; b++) {
        // Rotate the order each block (and reverse every other one) so no contestant always follows another.
        const order = contestants.map((_, i) => contestants[(i + b) % contestants.length]);
        if (b % 2 === 1) order.reverse();
        for (const c of order) await c.runSteps(blockSteps);
      }
      for (const r of group) r.peakRssMiB = (await r.ours.quit()).peakRssMiB;
      for (const peer of new Set(group.map((r) => r.peer))) await peer?.quit();
    } finally {
      contestants.forEach((c) => c.kill());
    }
    console.log(`\n${group[0].ours.ready?.name}: ${blocks} blocks of ${blockSteps} steps per contestant, rotated`);
    for (const r of group) {
      const peer = r.peer ? `; PyTorch ${r.peer.ready?.torch} ${r.peer.ready?.threads} thr, loss ${r.peer.lastLoss.toFixed(3)}` : '';
      console.log(`  ours: ${r.ours.ready?.detail}, loss ${r.ours.lastLoss.toFixed(3)}, tensors ${r.ours.tensors[0]}–${r.ours.tensors[1]} after each step (${r.ours.flat ? 'flat' : 'NOT flat'}), peak RSS ${r.peakRssMiB?.toFixed(0)} MiB${peer}`);
    }
    rows.push(...group);
  }
  printTable(rows, blocks);
  console.log(`\nload average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end (${load.toFixed(1)} at the start) on ${os.cpus().length} cores`);
}

function printTable(rows: Row[], blocks: number): void {
  const fmt = (ms: number) => Math.round(ms).toLocaleString('en-US');
  console.log(`\nms/step: median of all timed steps (${blocks} rotated blocks per contestant); ours/PyTorch: ratio of those medians; CPU: the process's CPU time, all its threads`);
  console.log('| workload | ours | threads | ours wall ms | PyTorch wall ms | ours/PyTorch (wall) | ours CPU ms | PyTorch CPU ms | ours/PyTorch (CPU) |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const peer = r.peer ? [fmt(median(r.peer.times)), `**${ratio(r.ours, r.peer).toFixed(2)}×**`, fmt(median(r.peer.cpu)), `${ratio(r.ours, r.peer, true).toFixed(2)}×`] : ['—', '—', '—', '—'];
    console.log(`| ${r.workload} | ${r.kind === 'native' ? 'native (@pretrain/backend-native)' : 'wasm'} | ${r.threads} | ${fmt(median(r.ours.times))} | ${peer[0]} | ${peer[1]} | ${fmt(median(r.ours.cpu))} | ${peer[2]} | ${peer[3]} |`);
  }
  const byWorkload = new Map<string, Row[]>();
  for (const r of rows) byWorkload.set(`${r.workload} (${r.kind})`, [...(byWorkload.get(`${r.workload} (${r.kind})`) ?? []), r]);
  for (const [key, group] of byWorkload) {
    const one = group.find((r) => r.threads === 1);
    if (!one) continue;
    for (const r of group.filter((g) => g !== one)) {
      const peer = r.peer && one.peer && r.kind === 'wasm' ? `, PyTorch ${ratio(r.peer, one.peer).toFixed(2)}×` : '';
      console.log(`${key}: wall time with ${r.threads} threads / with 1 thread: ours ${ratio(r.ours, one.ours).toFixed(2)}×${peer}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// --solo: ours alone in this process (memory check, profile)

/** Plain 512×512 matmul GFLOP/s in this process: the machine's measured peak for the fraction column. */
function matmulPeak(): number {
  const a = tf.randomNormal([512, 512]);
  const b = tf.randomNormal([512, 512]);
  // Best of many runs: the runs that got a core to themselves.
  const times: number[] = [];
  medianMs(
    () => {
      const t0 = performance.now();
      tf.matMul(a, b).dataSync();
      times.push(performance.now() - t0);
    },
    { budgetMs: 1000, maxRuns: 40 },
  );
  tf.dispose([a, b]);
  return (2 * 512 ** 3) / (Math.min(...times) * 1e6);
}

async function solo(): Promise<void> {
  const args = process.argv.slice(2);
  const threads = args.includes('--threads') ? Number(option('threads', '1')) : undefined;
  const native = args.includes('--native');
  if (native) registerKernelPack(nativeKernels);
  const backend = await initBackend({ backend: native ? 'native' : 'wasm', threads, log: false });
  const peak = matmulPeak();
  console.log(`machine: ${machineDescription()}; backend ${backend.name} (${backend.threads} thread${backend.threads === 1 ? '' : 's'}; ${backend.detail}); matmul peak ${peak.toFixed(1)} GFLOP/s (512×512, best run)`);
  for (const key of option('config', 'bert-mini,gpt-mini,nanogpt').split(',')) {
    const w = workload(key);
    const { step, dispose, optimizerMs } = makeStep(w, 1);
    const steps = Number(option('steps', key === 'nanogpt' ? '30' : '10'));
    const warmupLosses = [step(), step()];
    const tensorsBefore = tf.memory().numTensors;
    const tensorCounts: number[] = [];
    const timed = timeSteps(step, steps, () => tensorCounts.push(tf.memory().numTensors));
    const losses = [...warmupLosses, ...timed.losses];
    const ms = median(timed.times);
    const cpuMs = median(timed.cpuTimes);
    const tokens = w.batch * w.seq;
    const gflops = w.flops / (ms * 1e6);
    console.log(`${w.name}: batch ${w.batch} × seq ${w.seq}, vocab ${w.vocab}`);
    console.log(`  wall: ${ms.toFixed(1)} ms/step (median of ${steps}), ${((tokens / ms) * 1000).toFixed(0)} tokens/s, ${gflops.toFixed(2)} model GFLOP/s = ${((100 * gflops) / peak).toFixed(0)}% of matmul peak`);
    console.log(`  cpu:  ${cpuMs.toFixed(1)} ms/step (median, all threads), ${((tokens / cpuMs) * 1000).toFixed(0)} tokens per CPU-second`);
    console.log(`  of which the AdamW update: ${median(optimizerMs).toFixed(1)} ms (median wall), ${w.backbone.variables().size + w.objectives.reduce((n, o) => n + o.variables().size, 0)} parameters`);
    console.log(`  loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}; tensors ${tensorsBefore} before the timed steps, ${Math.min(...tensorCounts)}–${Math.max(...tensorCounts)} after each of ${steps} steps (${tensorCounts.every((n) => n === tensorsBefore) ? 'flat' : 'NOT flat'})`);
    // Peak RSS of the whole process so far (earlier workloads included: run one --config to isolate it).
    console.log(`  rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB now, peak ${(process.resourceUsage().maxRSS / 2 ** 10).toFixed(0)} MiB`);
    if (args.includes('--profile')) printCpuProfile(cpuProfileStep(step, Number(option('profile-steps', '1'))));
    if (args.includes('--wall-profile')) await profileStep(step);
    disposeWorkload(w, dispose);
  }
}

const mode = process.argv.includes('--worker') ? worker : process.argv.includes('--solo') ? solo : compare;
mode().catch((error) => {
  console.error(error);
  process.exit(1);
});

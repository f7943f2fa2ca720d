/**
 * The processes a comparison alternates between: ours (this bundle again, `--worker`) and the
 * PyTorch peer (tools/bench/peer/train_peer.py), each with its own thread count, all alive at once
 * and driven over stdin/stdout one block of steps at a time, so every contestant sees the same load.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as path from 'path';
import * as readline from 'readline';

export interface StepTimes {
  times: number[];
  cpu: number[];
  loss: number;
  /** ours only: tensor counts after each step (min, max) and whether they stayed at the warm-up count. */
  tensors?: [number, number];
  flat?: boolean;
}

export interface Ready {
  ready: true;
  /** ours: the workload's description. */
  name?: string;
  /** ours: e.g. "wasm (2 threads; SIMD, core's C kernels (relaxed SIMD) + XNNPACK)"; the peer: torch version and threads. */
  detail?: string;
  torch?: string;
  threads?: number;
}

export interface Finished {
  peakRssMiB?: number;
}

export class Contestant {
  readonly label: string;
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterableIterator<string>;
  ready?: Ready;
  readonly times: number[] = [];
  readonly cpu: number[] = [];
  tensors: [number, number] = [Infinity, -Infinity];
  flat = true;
  lastLoss = NaN;

  constructor(label: string, command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.label = label;
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], env });
    this.lines = readline.createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  /** The next JSON line the process prints (other lines are passed through as they are). */
  private async next<T>(): Promise<T> {
    for (;;) {
      const { value, done } = await this.lines.next();
      if (done) throw new Error(`${this.label}: the process ended (exit code ${this.child.exitCode ?? 'unknown'})`);
      const line = String(value).trim();
      if (line.startsWith('{')) return JSON.parse(line) as T;
      if (line) process.stderr.write(`${this.label}: ${line}\n`);
    }
  }

  async waitReady(): Promise<Ready> {
    this.ready = await this.next<Ready>();
    return this.ready;
  }

  async runSteps(n: number): Promise<void> {
    this.child.stdin!.write(`steps ${n}\n`);
    const result = await this.next<StepTimes>();
    this.times.push(...result.times);
    this.cpu.push(...result.cpu);
    this.lastLoss = result.loss;
    if (result.tensors) {
      this.tensors = [Math.min(this.tensors[0], result.tensors[0]), Math.max(this.tensors[1], result.tensors[1])];
      this.flat &&= result.flat !== false;
    }
  }

  async quit(): Promise<Finished> {
    this.child.stdin!.write('quit\n');
    const finished = await this.next<Finished>().catch(() => ({}));
    this.child.stdin!.end();
    await new Promise<void>((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once('exit', () => resolve())));
    return finished;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The script of the peer, next to this tool's sources (the bundle runs from tools/bench/dist). */
export function peerScript(): string {
  return path.join(__dirname, '..', 'peer', 'train_peer.py');
}

/**
 * A Python with torch: $PRETRAIN_BENCH_PYTHON, else python3, /usr/bin/python3 (Debian's
 * python3-torch lives there when another python3 comes first on PATH), python. Undefined when none.
 */
export function findTorchPython(): { python: string; version: string } | { missing: string } {
  const candidates = [process.env.PRETRAIN_BENCH_PYTHON, 'python3', '/usr/bin/python3', 'python'].filter((c): c is string => Boolean(c));
  const tried: string[] = [];
  for (const python of [...new Set(candidates)]) {
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
    tried.push(`${python}: ${probe.error ? 'not found' : 'no torch'}`);
  }
  return { missing: tried.join(', ') };
}

/**
 * The peer's environment: its BLAS and OpenMP pools sized to `threads` (loading @pretrain/backend-native
 * sets OPENBLAS_NUM_THREADS=1 for our own OpenBLAS; the peer gets its own value); idle OpenMP threads sleep.
 */
export function peerEnv(threads: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    MKL_NUM_THREADS: String(threads),
    // GNU OpenMP's default spin-waiting made PyTorch's 2-thread steps 5–10× slower on this shared
    // machine (load 7–10 on 2 cores); passive waiting is PyTorch at its best here. Override by setting it.
    OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
  };
}

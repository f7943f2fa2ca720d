/**
 * The pool of tokenizer workers (threads or processes) that builds a token cache. Workers start
 * as soon as the pool is made and load the tokenizer (~0.25 s: modules, then the tokenizer from
 * its JSON) while the caller still hashes the tokenizer and plans; run() then hands out the tasks.
 */
import { fork } from 'child_process';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { PretrainError } from '@pretrain/core';
import { deserializeError } from '../io/errors';
import type { ShardAssembler } from './assemble';
import type { ShardTask, ShardTaskResult } from './tokenize-task';
import { WORKER_PROCESS_ENV, type WorkerInit, type WorkerReply, type WorkerRequest, type WorkerUsage } from './worker';

export type Parallelism = 'processes' | 'threads';

/** Tasks handed out but not yet assembled, at most (bounds the results waiting for an earlier one). */
const TASKS_AHEAD_PER_WORKER = 4;
/** Tasks queued at a worker: it starts the next one without waiting for this thread. */
const TASKS_QUEUED_PER_WORKER = 2;

/** One worker of the pool, thread or process, seen the same way. */
interface PoolWorker {
  send(request: WorkerRequest): void;
  /** Ends the worker (if it still runs) and resolves once it is gone. */
  stop(): Promise<void>;
  /** The latest usage a worker process reported. */
  usage?: WorkerUsage;
}

type ReplyHandler = (reply: WorkerReply) => void;
type FailureHandler = (error: PretrainError) => void;

/** What run() is doing: the tasks, where results go, and how to finish. */
interface Run {
  tasks: ShardTask[];
  assembler: ShardAssembler;
  finished: Map<number, ShardTaskResult>;
  nextTask: number;
  assembled: number;
  idle: Set<PoolWorker>;
  resolve(): void;
  reject(error: unknown): void;
}

export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private current: Run | undefined;
  /** The first failure, kept for run() when it comes before (a worker that cannot load the tokenizer). */
  private failure: unknown;

  constructor(size: number, parallelism: Parallelism, init: WorkerInit) {
    for (let i = 0; i < size; i++) {
      const worker: PoolWorker = parallelism === 'processes' ? startWorkerProcess(init, (reply) => this.onReply(worker, reply), (error) => this.fail(error)) : startWorkerThread(init, (reply) => this.onReply(worker, reply), (error) => this.fail(error));
      this.workers.push(worker);
    }
  }

  /**
   * Runs tasks in plan order, each worker with its next task already queued; results are added to
   * the assembler in plan order as they become contiguous. The first failure rejects.
   */
  run(tasks: ShardTask[], assembler: ShardAssembler): Promise<void> {
    if (this.current) throw new Error('WorkerPool.run: already running');
    return new Promise<void>((resolve, reject) => {
      const run: Run = { tasks, assembler, finished: new Map(), nextTask: 0, assembled: 0, idle: new Set(), resolve, reject };
      this.current = run;
      if (this.failure !== undefined) return reject(this.failure);
      if (tasks.length === 0) return resolve();
      for (const worker of this.workers) for (let queued = 0; queued < TASKS_QUEUED_PER_WORKER; queued++) this.dispatch(run, worker);
    });
  }

  /** Ends every worker and waits for them; returns the usage worker processes reported. */
  async stop(): Promise<WorkerUsage[]> {
    await Promise.all(this.workers.map((w) => w.stop()));
    return this.workers.flatMap((w) => (w.usage ? [w.usage] : []));
  }

  private dispatch(run: Run, worker: PoolWorker): boolean {
    if (this.failure !== undefined || run.nextTask >= run.tasks.length || run.nextTask >= run.assembled + TASKS_AHEAD_PER_WORKER * this.workers.length) return false;
    worker.send({ type: 'task', taskIndex: run.nextTask, task: run.tasks[run.nextTask] });
    run.nextTask++;
    return true;
  }

  private onReply(worker: PoolWorker, reply: WorkerReply): void {
    if (reply.type === 'error') return this.fail(deserializeError(reply.error, reply.taskIndex < 0 ? 'tokenizer worker' : 'tokenizing'));
    const run = this.current;
    if (reply.type !== 'done' || !run) return;
    if (reply.usage) worker.usage = reply.usage;
    run.finished.set(reply.taskIndex, reply.result);
    // Hand out more work before writing shards, so no worker waits on this thread.
    if (!this.dispatch(run, worker)) run.idle.add(worker);
    try {
      this.assembleReady(run);
    } catch (error) {
      return this.fail(error);
    }
    for (const waiting of run.idle) if (this.dispatch(run, waiting)) run.idle.delete(waiting);
  }

  private assembleReady(run: Run): void {
    while (run.finished.has(run.assembled)) {
      const result = run.finished.get(run.assembled)!;
      run.finished.delete(run.assembled);
      run.assembler.add(run.tasks[run.assembled], result);
      run.assembled++;
    }
    if (run.assembled === run.tasks.length) run.resolve();
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.current?.reject(error);
  }
}

/**
 * Tokenizing makes mostly short-lived garbage, and V8's default young generation lets a worker's
 * resident memory grow. 32 MB was the fastest of 8/16/32/64 on the Gutenberg bench (idle 2-core
 * machine: 1 worker 3.08 s vs 3.26 s at 8 MB, 2 workers 2.42 s vs 3.07 s; about 4x fewer scavenges).
 */
const WORKER_YOUNG_GENERATION_MB = 32;

/**
 * The process flag that gives the same young generation: a thread limited to 32 MB reports a
 * 32 MB new space and the same total available heap (144 vs 145 MB with a 128 MB old generation)
 * as a process with 16 MB semi-spaces (V8 rounds semi-spaces to powers of two).
 */
const WORKER_SEMI_SPACE_MB = 16;

/**
 * Source files run as compiled JavaScript in a published package; from TypeScript sources (tests)
 * a worker starts in ts-worker-bootstrap.js, which installs an swc require hook so it can load the
 * same .ts modules.
 */
function workerEntry(): { file: string; tsEntry?: string; packagesDir: string } {
  const entry = path.join(__dirname, `worker${path.extname(__filename)}`);
  const packagesDir = path.resolve(__dirname, '../../..');
  if (!entry.endsWith('.ts')) return { file: entry, packagesDir };
  return { file: path.join(__dirname, 'ts-worker-bootstrap.js'), tsEntry: entry, packagesDir };
}

function startWorkerThread(init: WorkerInit, onReply: ReplyHandler, onFailure: FailureHandler): PoolWorker {
  const { file, tsEntry, packagesDir } = workerEntry();
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, maxOldGenerationSizeMb: init.workerHeapMb };
  const worker = new Worker(file, { resourceLimits, workerData: tsEntry ? { ...init, tsEntry, packagesDir } : init });
  worker.on('message', onReply);
  worker.on('error', (error) => {
    const outOfMemory = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
    const hint = outOfMemory ? ` (raise workerHeapMb, now ${init.workerHeapMb})` : '';
    onFailure(new PretrainError(`tokenizer worker crashed: ${error.message}${hint}`, { cause: error }));
  });
  worker.on('exit', (code) => {
    if (code !== 0) onFailure(new PretrainError(`tokenizer worker exited with code ${code}`));
  });
  return {
    send: (request) => worker.postMessage(request),
    stop: async () => {
      await worker.terminate();
    },
  };
}

/** The last bytes a child process wrote to stderr: V8 prints why it aborted there. */
const STDERR_TAIL_BYTES = 4096;

function startWorkerProcess(init: WorkerInit, onReply: ReplyHandler, onFailure: FailureHandler): PoolWorker {
  const { file, tsEntry, packagesDir } = workerEntry();
  const child = fork(file, tsEntry ? [tsEntry, packagesDir] : [], {
    serialization: 'advanced',
    execArgv: [`--max-old-space-size=${init.workerHeapMb}`, `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`],
    env: { ...process.env, [WORKER_PROCESS_ENV]: '1' },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stopping = false;
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  });
  child.on('message', onReply);
  child.on('error', (error) => onFailure(new PretrainError(`tokenizer worker process failed: ${error.message}`, { cause: error })));
  // 'close' comes after the process ended and its stderr was read to the end.
  const closed = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      if (!stopping) onFailure(processCrash(code, signal, stderrTail, init));
      resolve();
    });
  });
  child.send(init);
  return {
    send: (request) => {
      child.send(request, (error) => {
        if (error && !stopping) onFailure(new PretrainError(`cannot reach tokenizer worker process ${child.pid}: ${error.message}`, { cause: error }));
      });
    },
    stop: async () => {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await closed;
    },
  };
}

function processCrash(code: number | null, signal: NodeJS.Signals | null, stderrTail: string, init: WorkerInit): PretrainError {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  const fatal = /^.*(FATAL ERROR|out of memory).*$/m.exec(stderrTail)?.[0].trim();
  const hint = /out of memory/i.test(stderrTail) ? ` (raise workerHeapMb, now ${init.workerHeapMb})` : '';
  return new PretrainError(`tokenizer worker crashed: the worker process ${how}${fatal ? `: ${fatal}` : ''}${hint}`);
}


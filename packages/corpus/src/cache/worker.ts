/**
 * Tokenizer worker entry, for a worker thread or a child process. The tokenizer cannot be sent to
 * a worker, so each worker rebuilds it from its JSON through a factory module, then reads, segments
 * and tokenizes shard tasks as they arrive and sends the token ids back. A thread gets WorkerInit
 * as workerData; a child process (marked by WORKER_PROCESS_ENV) as its first message.
 */
import { parentPort, workerData } from 'worker_threads';
import { serializeError, type SerializedError } from '../io/errors';
import type { DocumentReadOptions } from '../text/documents';
import { loadTokenizer, type TokenizerFactory } from './tokenizer-factory';
import { runShardTask, type ShardTask, type ShardTaskResult } from './tokenize-task';

export interface WorkerInit {
  kind: 'pretrain-corpus-shard-worker';
  tokenizerJSON: string;
  factory: TokenizerFactory;
  readOptions: DocumentReadOptions;
  workerHeapMb: number;
}

export type WorkerRequest = { type: 'task'; taskIndex: number; task: ShardTask } | { type: 'exit' };

/** What a worker process has used so far (a thread's numbers would be the whole process's, so threads send none). */
export interface WorkerUsage {
  peakRssMb: number;
  cpuSeconds: number;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'done'; taskIndex: number; result: ShardTaskResult; usage?: WorkerUsage }
  | { type: 'error'; taskIndex: number; error: SerializedError };

/** Set in a child process's environment so that only processes we forked serve requests. */
export const WORKER_PROCESS_ENV = 'PRETRAIN_CORPUS_WORKER_PROCESS';

/** The two ways back to the pool: a thread's parentPort (buffers transferred) or a process's IPC channel (copied). */
interface ReplyPort {
  post(reply: WorkerReply, transfer: ArrayBuffer[]): void;
  close(): void;
  usage(): WorkerUsage | undefined;
}

function serve(port: ReplyPort, init: WorkerInit): (request: WorkerRequest) => void {
  let tokenizer: ReturnType<typeof loadTokenizer> | undefined;
  try {
    tokenizer = loadTokenizer(init.factory, init.tokenizerJSON);
    port.post({ type: 'ready' }, []);
  } catch (error) {
    port.post({ type: 'error', taskIndex: -1, error: serializeError(error) }, []);
  }
  // Tasks may arrive while one runs (the pool keeps a worker's next task queued): run them in order.
  let queue = Promise.resolve();
  return (request) => {
    if (request.type === 'exit') return port.close();
    if (!tokenizer) return;
    const loaded = tokenizer;
    queue = queue.then(async () => {
      try {
        const result = await runShardTask(request.task, init.readOptions, loaded);
        port.post({ type: 'done', taskIndex: request.taskIndex, result, usage: port.usage() }, [result.ids.buffer, result.sentenceTokens.buffer, result.groupSentences.buffer] as ArrayBuffer[]);
      } catch (error) {
        port.post({ type: 'error', taskIndex: request.taskIndex, error: serializeError(error) }, []);
      }
    });
  };
}

function threadPort(port: NonNullable<typeof parentPort>): ReplyPort {
  return { post: (reply, transfer) => port.postMessage(reply, transfer), close: () => port.close(), usage: () => undefined };
}

function processPort(): ReplyPort {
  return {
    post: (reply) => process.send!(reply),
    close: () => process.disconnect(),
    usage: () => {
      const used = process.resourceUsage();
      return { peakRssMb: used.maxRSS / 1024, cpuSeconds: (used.userCPUTime + used.systemCPUTime) / 1e6 };
    },
  };
}

/** The first message is the WorkerInit, every later one a request. The process ends when the pool disconnects (or dies). */
function startProcess(): void {
  let handle: ((request: WorkerRequest) => void) | undefined;
  process.on('message', (message: WorkerInit | WorkerRequest) => {
    if (handle) handle(message as WorkerRequest);
    else handle = serve(processPort(), message as WorkerInit);
  });
  process.on('disconnect', () => process.exit(0));
}

if (parentPort && (workerData as WorkerInit | undefined)?.kind === 'pretrain-corpus-shard-worker') {
  const port = threadPort(parentPort);
  parentPort.on('message', serve(port, workerData as WorkerInit));
} else if (!parentPort && process.send && process.env[WORKER_PROCESS_ENV] === '1') {
  startProcess();
}

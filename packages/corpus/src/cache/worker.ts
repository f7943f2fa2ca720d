/**
 * Worker-thread entry for tokenization. The tokenizer cannot be sent to a worker, so each worker
 * rebuilds it from its JSON through a factory module, then reads, segments and tokenizes shard
 * tasks as they arrive and sends the token ids back (transferred, not copied).
 */
import { parentPort, workerData } from 'worker_threads';
import { serializeError } from '../io/errors';
import type { DocumentReadOptions } from '../text/documents';
import { loadTokenizer, type TokenizerFactory } from './tokenizer-factory';
import { runShardTask, type ShardTask } from './tokenize-task';

export interface WorkerInit {
  kind: 'pretrain-corpus-shard-worker';
  tokenizerJSON: string;
  factory: TokenizerFactory;
  readOptions: DocumentReadOptions;
  workerHeapMb: number;
}

export type WorkerRequest = { type: 'task'; taskIndex: number; task: ShardTask } | { type: 'exit' };

function start(port: NonNullable<typeof parentPort>, init: WorkerInit): void {
  let tokenizer: ReturnType<typeof loadTokenizer>;
  try {
    tokenizer = loadTokenizer(init.factory, init.tokenizerJSON);
  } catch (error) {
    port.postMessage({ type: 'error', taskIndex: -1, error: serializeError(error) });
    return;
  }
  // Tasks may arrive while one runs (the pool keeps a worker's next task queued): run them in order.
  let queue = Promise.resolve();
  port.on('message', (request: WorkerRequest) => {
    if (request.type === 'exit') {
      port.close();
      return;
    }
    queue = queue.then(async () => {
      try {
        const result = await runShardTask(request.task, init.readOptions, tokenizer);
        port.postMessage({ type: 'done', taskIndex: request.taskIndex, result }, [result.ids.buffer, result.sentenceTokens.buffer, result.groupSentences.buffer] as ArrayBuffer[]);
      } catch (error) {
        port.postMessage({ type: 'error', taskIndex: request.taskIndex, error: serializeError(error) });
      }
    });
  });
  port.postMessage({ type: 'ready' });
}

if (parentPort && (workerData as WorkerInit | undefined)?.kind === 'pretrain-corpus-shard-worker') start(parentPort, workerData as WorkerInit);

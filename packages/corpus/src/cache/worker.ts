/**
 * Worker-thread entry for tokenization. The tokenizer cannot be sent to a worker, so each worker
 * rebuilds it from its JSON through a factory module, then runs shard tasks as they arrive.
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
  port.on('message', async (request: WorkerRequest) => {
    if (request.type === 'exit') {
      port.close();
      return;
    }
    try {
      const result = await runShardTask(request.task, init.readOptions, tokenizer);
      port.postMessage({ type: 'done', taskIndex: request.taskIndex, result });
    } catch (error) {
      port.postMessage({ type: 'error', taskIndex: request.taskIndex, error: serializeError(error) });
    }
  });
  port.postMessage({ type: 'ready' });
}

if (parentPort && (workerData as WorkerInit | undefined)?.kind === 'pretrain-corpus-shard-worker') start(parentPort, workerData as WorkerInit);

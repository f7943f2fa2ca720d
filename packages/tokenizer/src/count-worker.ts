/**
 * Worker thread that counts words for the trainers. Protocol: workerData is the pipeline JSON;
 * messages are `{ texts: string[] }` batches (answered with `{ done: n }`), then `{ finish: true }`,
 * answered with `{ counts: [word, count][] }`.
 */
import { parentPort, workerData } from 'worker_threads';
import { countWordsInto, CountingPipelineJSON, pipelineFromJSON } from './word-counts';

if (parentPort) {
  const port = parentPort;
  const pipeline = pipelineFromJSON(workerData as CountingPipelineJSON);
  const counts = new Map<string, number>();
  port.on('message', (message: { texts?: string[]; finish?: boolean }) => {
    if (message.texts) {
      countWordsInto(counts, message.texts, pipeline);
      port.postMessage({ done: message.texts.length });
    } else if (message.finish) {
      port.postMessage({ counts: [...counts] });
    }
  });
}

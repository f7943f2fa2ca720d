import type { TokenizerPlugin } from '@pretrain/core';
import type { SourceFile } from '../io/files';
import { emptyStats, type ReadStats } from '../io/stats';
import { readDocuments, type DocumentReadOptions } from '../text/documents';
import { ShardWriter, type ShardCounts } from './shard-format';

const ENCODE_BATCH = 64;

/** A unit of tokenization work: consecutive corpus files that go into one shard. */
export interface ShardTask {
  /** Shard file base path (without .bin / .idx). */
  basePath: string;
  files: { file: SourceFile; fileIndex: number }[];
}

export interface ShardTaskResult extends ShardCounts {
  stats: ReadStats;
}

/** Reads, segments and tokenizes a task's files into one shard. */
export async function runShardTask(task: ShardTask, readOptions: DocumentReadOptions, tokenizer: TokenizerPlugin): Promise<ShardTaskResult> {
  const stats = emptyStats();
  const writer = new ShardWriter(task.basePath);
  try {
    for (const { file, fileIndex } of task.files) {
      let ordinal = 0;
      for await (const document of readDocuments(file, readOptions, stats)) {
        // Encoding objects are large (tokens, offsets, word ids...): encode a few sentences at a
        // time so a 10,000-sentence document never has all of them alive at once.
        for (let start = 0; start < document.sentences.length; start += ENCODE_BATCH) {
          const encodings = tokenizer.encodeBatch(document.sentences.slice(start, start + ENCODE_BATCH), { addSpecialTokens: false });
          for (const encoding of encodings) writer.addSentence(encoding.ids);
        }
        writer.endDocument(fileIndex, ordinal++);
      }
    }
    return { ...writer.finish(), stats };
  } catch (error) {
    writer.abort();
    throw error;
  }
}

import type { TokenizerPlugin } from '@pretrain/core';
import type { SourceFile } from '../io/files';
import { emptyStats, type ReadStats } from '../io/stats';
import { readDocuments, type DocumentReadOptions } from '../text/documents';
import { ShardWriter, type ShardCounts } from './shard-format';

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
        const encodings = tokenizer.encodeBatch(document.sentences, { addSpecialTokens: false });
        writer.addDocument(fileIndex, ordinal++, encodings.map((e) => e.ids));
      }
    }
    return { ...writer.finish(), stats };
  } catch (error) {
    writer.abort();
    throw error;
  }
}

import * as path from 'path';
import type { SourceFile } from '../io/files';
import { emptyStats, mergeStats, type ReadStats } from '../io/stats';
import { DocumentJoiner, type DocumentReadOptions, type RangeEnd } from '../text/documents';
import { ShardWriter } from './shard-format';
import type { ShardTask, ShardTaskResult } from './tokenize-task';

export interface AssembledShard {
  name: string;
  files: number[];
  documents: number;
  sentences: number;
  tokens: number;
  binCrc32: number;
  idxCrc32: number;
}

interface FileProgress {
  ordinal: number;
  /** Set once a piece ended the file (Gutenberg footer, skipped file): later pieces do not count. */
  end: RangeEnd;
  stripped: boolean;
}

/**
 * Turns task results, fed in plan order, into shards: numbers each file's documents, joins
 * `document`-layout paragraph groups into documents across pieces (a document belongs to the
 * shard of the task where it ends), drops what follows a file's end, and sums the read summary
 * as a whole-file read would count it. Runs in the calling thread; it only copies ids and writes.
 */
export class ShardAssembler {
  readonly shards: AssembledShard[] = [];
  readonly stats: ReadStats = emptyStats();
  private readonly joiner: DocumentJoiner | undefined;
  private progress: FileProgress | undefined;
  /** Sentences of the document not yet complete (views on task results' ids). */
  private pendingSentences: Int32Array[] = [];
  private writer: ShardWriter | undefined;
  private shard: AssembledShard | undefined;

  constructor(private readonly files: SourceFile[], private readonly readOptions: DocumentReadOptions, private readonly cacheDir: string) {
    this.joiner = readOptions.format === 'text' && readOptions.layout === 'document' ? new DocumentJoiner(readOptions.maxSentencesPerDocument) : undefined;
  }

  add(task: ShardTask, result: ShardTaskResult): void {
    let group = 0;
    let sentence = 0;
    let token = 0;
    try {
      task.pieces.forEach((piece, p) => {
        const outcome = result.pieces[p];
        if (piece.start === 0 || !this.progress) this.progress = { ordinal: 0, end: undefined, stripped: false };
        const progress = this.progress;
        const counts = progress.end === undefined;
        this.addPieceStats(outcome.stats, progress.end);
        for (let g = 0; g < outcome.groups; g++) {
          const sentences = result.groupSentences[group++];
          for (let s = 0; s < sentences; s++) {
            const tokens = result.sentenceTokens[sentence++];
            if (counts) this.pendingSentences.push(result.ids.subarray(token, token + tokens));
            token += tokens;
          }
          if (counts) this.addGroup(piece.fileIndex, sentences);
        }
        if (counts) {
          progress.end = outcome.end;
          progress.stripped ||= outcome.stats.gutenbergStripped > 0;
        }
        if (piece.end >= piece.file.size) this.endFile(piece.fileIndex);
      });
      this.finishShard();
    } catch (error) {
      this.writer?.abort();
      throw error;
    }
  }

  private addGroup(fileIndex: number, sentences: number): void {
    if (!this.joiner || this.joiner.add(sentences) > 0) this.writeDocument(fileIndex);
  }

  private endFile(fileIndex: number): void {
    const progress = this.progress!;
    if (this.joiner && this.joiner.end() > 0) this.writeDocument(fileIndex);
    this.stats.files++;
    this.stats.bytes += this.files[fileIndex].size;
    if (progress.stripped) this.stats.gutenbergStripped++;
    // A whole `document` file with no text left is one empty document (as a whole-file read counts it).
    if (this.joiner && progress.ordinal === 0 && progress.end !== 'skipped') this.stats.emptyDocuments++;
    this.progress = undefined;
  }

  /** Writes the pending sentences as the file's next document. */
  private writeDocument(fileIndex: number): void {
    const progress = this.progress!;
    if (!this.writer) {
      const name = `shard-${String(this.shards.length).padStart(5, '0')}`;
      this.writer = new ShardWriter(path.join(this.cacheDir, name));
      this.shard = { name, files: [], documents: 0, sentences: 0, tokens: 0, binCrc32: 0, idxCrc32: 0 };
    }
    for (const ids of this.pendingSentences) this.writer.addSentence(ids);
    this.writer.endDocument(fileIndex, progress.ordinal++);
    const shard = this.shard!;
    if (shard.files[shard.files.length - 1] !== fileIndex) shard.files.push(fileIndex);
    this.stats.documents++;
    this.stats.sentences += this.pendingSentences.length;
    this.pendingSentences = [];
  }

  private finishShard(): void {
    if (!this.writer) return;
    const counts = this.writer.finish();
    this.shards.push({ ...this.shard!, ...counts });
    this.writer = undefined;
    this.shard = undefined;
  }

  /**
   * After a Gutenberg footer a whole-file read still decodes the rest of the file (counting invalid
   * UTF-8 and split long lines) but keeps no text; after a skipped file it reads nothing more.
   */
  private addPieceStats(stats: ReadStats, fileEnd: RangeEnd): void {
    if (fileEnd === 'skipped') return;
    if (fileEnd === 'footer') {
      this.stats.invalidUtf8 += stats.invalidUtf8;
      this.stats.longLinesSplit += stats.longLinesSplit;
      return;
    }
    // Documents, sentences and the per-file counts are this class's own.
    mergeStats(this.stats, { ...stats, files: 0, bytes: 0, documents: 0, sentences: 0, gutenbergStripped: 0, emptyDocuments: this.joiner ? 0 : stats.emptyDocuments });
  }
}

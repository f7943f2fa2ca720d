import { GrowableIntArray, type TokenizerPlugin } from '@pretrain/core/lite';
import { countLinesBefore, findCutPoint, type CutRule } from '../io/cut-points';
import type { SourceFile } from '../io/files';
import { emptyStats, type ReadStats } from '../io/stats';
import { readRangeGroups, type DocumentReadOptions, type FileRange, type RangeEnd } from '../text/documents';
import { GUTENBERG_HEADER_LINES } from '../text/gutenberg';

const ENCODE_BATCH = 64;

/**
 * Part of one file. `start`/`end` are nominal byte offsets from the plan; the worker moves both
 * to the next cut point (findCutPoint), so neighbouring pieces meet exactly and a file read in
 * pieces gives the same lines as read whole.
 */
export interface FilePiece {
  fileIndex: number;
  file: SourceFile;
  start: number;
  end: number;
}

/** A unit of tokenization work: consecutive pieces (small whole files, or a range of a big one) that become one shard. */
export interface ShardTask {
  pieces: FilePiece[];
}

export interface PieceResult {
  /** Sentence groups this piece produced (see readRangeGroups). */
  groups: number;
  stats: ReadStats;
  end: RangeEnd;
}

/** Token ids of a task's sentences, back to back, with the counts that delimit them. */
export interface ShardTaskResult {
  ids: Int32Array;
  /** Tokens of each sentence. */
  sentenceTokens: Uint32Array;
  /** Sentences of each group. */
  groupSentences: Uint32Array;
  pieces: PieceResult[];
}

/** Reads, segments and tokenizes a task's pieces (everything but writing the shard). */
export async function runShardTask(task: ShardTask, readOptions: DocumentReadOptions, tokenizer: TokenizerPlugin): Promise<ShardTaskResult> {
  const ids = new GrowableIntArray(Int32Array, 1024);
  const sentenceTokens = new GrowableIntArray(Uint32Array, 1024);
  const groupSentences = new GrowableIntArray(Uint32Array, 1024);
  const pieces: PieceResult[] = [];
  // Tokenizers with encodeIds give the ids alone (no Encoding objects: far less garbage, which
  // workers pay for in collection time). Others go through encodeBatch: Encoding objects are large
  // (tokens, offsets, word ids...), so ENCODE_BATCH sentences at a time (across paragraph groups,
  // which are often a few sentences each), and a 10,000-sentence document never has all of them alive at once.
  let batch: string[] = [];
  const encodeBatch = () => {
    if (tokenizer.encodeIds) {
      for (const sentence of batch) {
        const sentenceIds = tokenizer.encodeIds(sentence);
        ids.pushAll(sentenceIds);
        sentenceTokens.push(sentenceIds.length);
      }
    } else {
      for (const encoding of tokenizer.encodeBatch(batch, { addSpecialTokens: false })) {
        ids.pushAll(encoding.ids);
        sentenceTokens.push(encoding.ids.length);
      }
    }
    batch = [];
  };
  for (const piece of task.pieces) {
    const stats = emptyStats();
    const outcome = { end: undefined as RangeEnd };
    let groups = 0;
    for await (const sentences of readRangeGroups(piece.file, alignedRange(piece, readOptions), readOptions, stats, outcome)) {
      for (const sentence of sentences) {
        batch.push(sentence);
        if (batch.length === ENCODE_BATCH) encodeBatch();
      }
      groupSentences.push(sentences.length);
      groups++;
    }
    pieces.push({ groups, stats, end: outcome.end });
  }
  if (batch.length > 0) encodeBatch();
  return { ids: ids.toArray(), sentenceTokens: sentenceTokens.toArray(), groupSentences: groupSentences.toArray(), pieces };
}

function cutRuleFor(readOptions: DocumentReadOptions): CutRule {
  const text = readOptions.format === 'text';
  return { anyLineStart: !text, headerLines: text && readOptions.stripGutenberg ? GUTENBERG_HEADER_LINES : 0 };
}

function alignedRange(piece: FilePiece, readOptions: DocumentReadOptions): FileRange {
  const { path: file, size } = piece.file;
  const rule = cutRuleFor(readOptions);
  const start = findCutPoint(file, size, piece.start, rule);
  const end = Math.max(start, findCutPoint(file, size, piece.end, rule));
  let linesBefore: number | undefined;
  return { start, end, linesBefore: () => (linesBefore ??= start === 0 ? 0 : countLinesBefore(file, start)) };
}

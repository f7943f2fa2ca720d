import { Rng, type CorpusSourcePlugin, type IteratorState, type ResumableStream, type RngState, type TextDocument } from '@pretrain/core';
import { resolveSources, type SourceFile } from '../io/files';
import { emptyStats, mergeStats, type ReadStats } from '../io/stats';
import { checkValidationFraction, hashString, splitOf, type Split } from '../split';
import { checkState, epochRng, order } from '../stream-state';
import { documentReadOptions, readDocuments, type DocumentReadOptions } from './documents';
import { checkLocale } from './segment';

export interface TextCorpusOptions extends Partial<DocumentReadOptions> {
  /** Files, directories and globs. */
  paths: string[];
  /** Relative paths resolve against it (default: the working directory). */
  baseDir?: string;
  /** Share of documents (by id hash) in the validation split. Default 0. */
  validationFraction?: number;
  /** Default seed when `documents()` gets none. Default 0. */
  seed?: number;
  /** Shuffle file order and documents (through a buffer). Default true. */
  shuffle?: boolean;
  /** Documents held for shuffling; memory grows with it. Default 1000. */
  shuffleBuffer?: number;
  /** Start over (reshuffled) after the last document instead of ending. Default false. */
  repeat?: boolean;
}

/** Unlabeled text files as a resumable, deterministic stream of documents. */
export class TextCorpus implements CorpusSourcePlugin {
  readonly files: SourceFile[];
  readonly readOptions: DocumentReadOptions;
  readonly validationFraction: number;
  /** Totals over every stream this corpus created. */
  readonly stats: ReadStats = emptyStats();

  constructor(readonly options: TextCorpusOptions) {
    this.readOptions = documentReadOptions(options);
    this.validationFraction = options.validationFraction ?? 0;
    checkValidationFraction(this.validationFraction);
    checkLocale(this.readOptions.locale);
    this.files = resolveSources(options.paths, options.baseDir);
  }

  documents(options: { split?: Split; seed?: number } = {}): TextDocumentStream {
    return new TextDocumentStream(this, options.split ?? 'train', options.seed ?? this.options.seed ?? 0);
  }

  /** A fingerprint of the file list, stored in iterator states so a resume on other files fails loudly. */
  filesFingerprint(): string {
    return hashString(this.files.map((f) => `${f.relPath}\t${f.size}`).join('\n')).toString(16);
  }
}

interface TextStreamState extends IteratorState {
  kind: 'text-corpus';
  version: 1;
  seed: number;
  split: Split;
  files: string;
  epoch: number;
  /** Position in this epoch's file order. */
  fileCursor: number;
  /** Documents already read from the file at fileCursor (whatever their split). */
  documentsTakenFromFile: number;
  rng: RngState;
  buffer: TextDocument[];
}

export class TextDocumentStream implements ResumableStream<TextDocument> {
  private state: TextStreamState;
  private readonly summary = emptyStats();

  constructor(private readonly corpus: TextCorpus, split: Split, seed: number) {
    this.state = {
      kind: 'text-corpus',
      version: 1,
      seed,
      split,
      files: corpus.filesFingerprint(),
      epoch: 0,
      fileCursor: 0,
      documentsTakenFromFile: 0,
      rng: new Rng(seed).fork().getState(),
      buffer: [],
    };
  }

  getState(): IteratorState {
    return structuredClone(this.state);
  }

  setState(state: IteratorState): void {
    const { kind, version, seed, split, files } = this.state;
    checkState(state, { kind, version, seed, split, files }, 'text corpus');
    this.state = structuredClone(state) as TextStreamState;
  }

  /** What this stream read and skipped so far. */
  stats(): ReadStats {
    return structuredClone(this.summary);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TextDocument> {
    const shuffle = this.corpus.options.shuffle ?? true;
    const bufferSize = shuffle ? Math.max(1, this.corpus.options.shuffleBuffer ?? 1000) : 0;
    const rng = Rng.fromState(this.state.rng);
    const s = this.state;
    for (;;) {
      const fileOrder = order(this.corpus.files.length, shuffle ? epochRng(s.seed, s.epoch) : undefined);
      while (s.fileCursor < fileOrder.length) {
        const file = this.corpus.files[fileOrder[s.fileCursor]];
        const fileStats = emptyStats();
        let index = 0;
        const skip = s.documentsTakenFromFile;
        try {
          for await (const document of readDocuments(file, this.corpus.readOptions, fileStats)) {
            if (index++ < skip) continue;
            s.documentsTakenFromFile++;
            if (splitOf(document.id, this.corpus.validationFraction) !== s.split) continue;
            if (bufferSize === 0) {
              yield document;
            } else if (s.buffer.length < bufferSize) {
              s.buffer.push(document);
            } else {
              const j = rng.int(bufferSize);
              const out = s.buffer[j];
              s.buffer[j] = document;
              s.rng = rng.getState();
              yield out;
            }
          }
        } finally {
          mergeStats(this.summary, fileStats);
          mergeStats(this.corpus.stats, fileStats);
        }
        s.fileCursor++;
        s.documentsTakenFromFile = 0;
      }
      while (s.buffer.length > 0) {
        const j = rng.int(s.buffer.length);
        const out = s.buffer[j];
        s.buffer[j] = s.buffer[s.buffer.length - 1];
        s.buffer.pop();
        s.rng = rng.getState();
        yield out;
      }
      if (!this.corpus.options.repeat) return;
      s.epoch++;
      s.fileCursor = 0;
    }
  }
}

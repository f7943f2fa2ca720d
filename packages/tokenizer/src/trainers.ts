/**
 * Training entry points: a WordPiece (BERT) and a byte-level BPE (GPT-2) trainer. Both stream
 * their input, count words on worker threads and are deterministic for a given corpus + settings.
 */
import { byteLevelAlphabet } from './byte-level';
import { BPETrainerOptions, trainBPE } from './bpe-trainer';
import { BERT_SPECIAL_TOKENS, bertTokenizer, gpt2Tokenizer } from './builders';
import { BPE, WordPiece } from './models';
import { BertNormalizer } from './normalizers';
import { BertPreTokenizer, ByteLevelPreTokenizer } from './pre-tokenizers';
import { Tokenizer } from './tokenizer';
import { CountOptions, countWords, TrainingInput } from './training-input';

export interface TrainWordPieceOptions extends CountOptions {
  vocabSize?: number;
  minFrequency?: number;
  /** Default: [PAD] [UNK] [CLS] [SEP] [MASK] (ids 0-4). */
  specialTokens?: string[];
  limitAlphabet?: number | null;
  initialAlphabet?: string[];
  continuingSubwordPrefix?: string;
  unkToken?: string;
  maxInputCharsPerWord?: number;
  lowercase?: boolean;
  stripAccents?: boolean | null;
  handleChineseChars?: boolean;
}

/** Trains a BERT WordPiece tokenizer (BertNormalizer + BertPreTokenizer + `[CLS] A [SEP]` template). */
export async function trainWordPiece(input: TrainingInput, options: TrainWordPieceOptions = {}): Promise<Tokenizer> {
  const normalizer = new BertNormalizer({ lowercase: options.lowercase ?? true, stripAccents: options.stripAccents ?? null, handleChineseChars: options.handleChineseChars ?? true });
  const preTokenizer = new BertPreTokenizer();
  const counts = await countWords(input, { normalizer, preTokenizer }, options);
  const specialTokens = options.specialTokens ?? BERT_SPECIAL_TOKENS;
  const prefix = options.continuingSubwordPrefix ?? '##';
  const trainerOptions: BPETrainerOptions = {
    vocabSize: options.vocabSize ?? 30000,
    minFrequency: options.minFrequency ?? 0,
    specialTokens,
    limitAlphabet: options.limitAlphabet ?? null,
    initialAlphabet: options.initialAlphabet ?? [],
    continuingSubwordPrefix: prefix,
  };
  const { vocab } = trainBPE(counts, trainerOptions);
  const model = new WordPiece(vocab, { unkToken: options.unkToken ?? '[UNK]', continuingSubwordPrefix: prefix, maxInputCharsPerWord: options.maxInputCharsPerWord ?? 100 });
  return bertTokenizer(model, { lowercase: options.lowercase ?? true, stripAccents: options.stripAccents ?? null, handleChineseChars: options.handleChineseChars ?? true, specialTokens });
}

export interface TrainByteLevelBPEOptions extends CountOptions {
  vocabSize?: number;
  minFrequency?: number;
  /** Default: <|endoftext|>. */
  specialTokens?: string[];
  limitAlphabet?: number | null;
  /** Default: all 256 byte-level characters, so every input can be encoded. */
  initialAlphabet?: string[];
  addPrefixSpace?: boolean;
}

/** Trains a GPT-2 style byte-level BPE tokenizer. */
export async function trainByteLevelBPE(input: TrainingInput, options: TrainByteLevelBPEOptions = {}): Promise<Tokenizer> {
  const preTokenizer = new ByteLevelPreTokenizer(options.addPrefixSpace ?? false, true, true);
  const counts = await countWords(input, { normalizer: null, preTokenizer }, options);
  const specialTokens = options.specialTokens ?? ['<|endoftext|>'];
  const { vocab, merges } = trainBPE(counts, {
    vocabSize: options.vocabSize ?? 30000,
    minFrequency: options.minFrequency ?? 0,
    specialTokens,
    limitAlphabet: options.limitAlphabet ?? null,
    initialAlphabet: options.initialAlphabet ?? byteLevelAlphabet(),
  });
  return gpt2Tokenizer(new BPE(vocab, merges, {}), { addPrefixSpace: options.addPrefixSpace ?? false, specialTokens });
}

import { Tokenizer, trainByteLevelBPE, trainWordPiece } from '@pretrain/tokenizer';

export type TokenizerType = 'wordpiece' | 'bpe';

export interface TokenizerTrainingOptions {
  type: TokenizerType;
  vocabSize: number;
  minFrequency?: number;
}

/** Trains a WordPiece (BERT, lowercased) or byte-level BPE (GPT-2) tokenizer on streamed texts. */
export async function trainTokenizer(texts: AsyncIterable<string> | Iterable<string>, options: TokenizerTrainingOptions): Promise<Tokenizer> {
  const settings = { vocabSize: options.vocabSize, minFrequency: options.minFrequency ?? 2 };
  return options.type === 'wordpiece' ? trainWordPiece(texts, settings) : trainByteLevelBPE(texts, settings);
}

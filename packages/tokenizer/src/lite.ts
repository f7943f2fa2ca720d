/**
 * `@pretrain/tokenizer/lite`: the whole tokenizer API except the plugin definitions, which need
 * core's config schemas (zod) and with them TensorFlow.js. Loads in ~20 ms instead of ~0.15 s:
 * token-cache workers rebuild their tokenizer from here.
 */
export { Tokenizer, fromTokenizerJSON } from './tokenizer';
export type { TokenizerParts, TokenizerEncodeOptions } from './tokenizer';
export type { TruncationOptions, PaddingOptions, TruncationStrategy, Direction } from './encoding';
export * from './normalizers';
export * from './pre-tokenizers';
export * from './models';
export * from './post-processors';
export * from './decoders';
export type { AddedToken } from './added-vocabulary';
export { TokenizerJSONError } from './json-path';
export { byteLevelAlphabet } from './byte-level';
export { bertTokenizer, fromBertVocab, readVocabTxt, gpt2Tokenizer, fromGPT2Files, BERT_SPECIAL_TOKENS } from './builders';
export type { BertPipelineOptions } from './builders';
export { loadTokenizer } from './loader';
export { trainWordPiece, trainByteLevelBPE } from './trainers';
export type { TrainWordPieceOptions, TrainByteLevelBPEOptions } from './trainers';
export { trainBPE } from './bpe-trainer';
export type { BPETrainerOptions, BPETrainingResult } from './bpe-trainer';
export { countWords, readLinesWithEndings } from './training-input';
export type { TrainingInput, CountOptions } from './training-input';

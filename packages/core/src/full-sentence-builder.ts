import type { Example, ExampleBuilder, ExampleBuilderContext, TokenizedDocument, TokenizerPlugin } from './contract';
import { PretrainError } from './errors';

export interface FullSentenceOptions {
  /** Put a separator between documents (RoBERTa's FULL-SENTENCES); packing crosses document boundaries. */
  separateDocuments: boolean;
}

/** The framing tokens of a packed sequence: [CLS] … [SEP] for BERT vocabularies, <s> … </s> otherwise. */
export function framingTokens(tokenizer: TokenizerPlugin): { start: number; end: number } {
  const special = tokenizer.specialTokenIds();
  const start = special.cls ?? special.bos;
  const end = special.sep ?? special.eos;
  if (start === undefined || end === undefined) {
    throw new PretrainError('full-sentence example builder: the tokenizer defines neither [CLS]/[SEP] nor bos/eos tokens to frame sequences with', { path: 'tokenizer' });
  }
  return { start, end };
}

/**
 * The framing tokens and how many tokens fit between them at the context's maxLength; an error naming the
 * builder (`<name> example builder: …`) when none do.
 */
export function windowFraming(builder: string, context: ExampleBuilderContext): { start: number; end: number; capacity: number } {
  const capacity = context.maxLength - 2;
  if (capacity < 1) throw new PretrainError(`${builder} example builder: maxLength ${context.maxLength} leaves no room between the framing tokens`, { path: 'trainer.maxLength' });
  return { ...framingTokens(context.tokenizer), capacity };
}

/** Word index per token (-1 for specials): a new word starts at every non-continuation piece. */
export function wordIdsFor(ids: Int32Array, specials: Uint8Array, tokenizer: TokenizerPlugin): Int32Array {
  const words = new Int32Array(ids.length);
  let word = -1;
  for (let i = 0; i < ids.length; i++) {
    if (specials[i]) {
      words[i] = -1;
      continue;
    }
    if (word < 0 || !tokenizer.isContinuation(ids[i]) || words[i - 1] < 0) word++;
    words[i] = word;
  }
  return words;
}

/**
 * RoBERTa-style examples (MLM's and ELECTRA's): full sentences packed contiguously up to maxLength, crossing document
 * boundaries with a separator token between documents. A sentence longer than a whole sequence
 * is split into sequence-sized pieces.
 */
export class FullSentenceBuilder implements ExampleBuilder {
  constructor(private readonly options: FullSentenceOptions) {}

  async *build(documents: AsyncIterable<TokenizedDocument>, context: ExampleBuilderContext): AsyncIterable<Example> {
    const { start, end, capacity } = windowFraming('full-sentence', context);
    let current: number[] = [];
    const emit = (): Example => {
      const example = framedExample(current, start, end, context.tokenizer);
      current = [];
      return example;
    };
    for await (const document of documents) {
      if (current.length > 0 && this.options.separateDocuments) {
        if (current.length + 1 > capacity) yield emit();
        else current.push(end);
      }
      for (const sentence of document.sentences) {
        if (current.length > 0 && current.length + sentence.length > capacity) yield emit();
        for (let from = 0; from < sentence.length; from += capacity) {
          const piece = sentence.subarray(from, from + capacity);
          if (current.length > 0 && current.length + piece.length > capacity) yield emit();
          for (const id of piece) current.push(id);
        }
      }
    }
    if (current.length > 0) yield emit();
  }
}

/**
 * `start tokens end` as an example: the framing tokens, and any `end` inside (a separator between documents),
 * are special tokens (never masked); word ids from the tokenizer; token types all 0.
 */
export function framedExample(tokens: ArrayLike<number>, start: number, end: number, tokenizer: TokenizerPlugin): Example {
  const inputIds = new Int32Array(tokens.length + 2);
  inputIds[0] = start;
  inputIds.set(tokens, 1);
  inputIds[inputIds.length - 1] = end;
  const specialTokensMask = new Uint8Array(inputIds.length);
  specialTokensMask[0] = 1;
  specialTokensMask[inputIds.length - 1] = 1;
  // Document separators inside the sequence are special tokens too: never masked.
  for (let i = 1; i < inputIds.length - 1; i++) if (inputIds[i] === end) specialTokensMask[i] = 1;
  return {
    inputIds,
    tokenTypeIds: new Int32Array(inputIds.length),
    specialTokensMask,
    wordIds: wordIdsFor(inputIds, specialTokensMask, tokenizer),
  };
}

/** One document's tokens: its sentences, concatenated. */
export function documentTokens(document: TokenizedDocument): Int32Array {
  const out = new Int32Array(document.sentences.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const sentence of document.sentences) {
    out.set(sentence, at);
    at += sentence.length;
  }
  return out;
}

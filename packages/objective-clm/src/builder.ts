import { objectivePath, PretrainError } from '@pretrain/core/lite';
import type { Example, ExampleBuilder, ExampleBuilderContext, TokenizedDocument, TokenizerPlugin } from '@pretrain/core';

export interface BlockBuilderOptions {
  blockSize: number;
  separatorToken?: string;
  dropRemainder: boolean;
}

/** The id put between documents: the named token, else eos, bos or [SEP]. */
export function separatorId(tokenizer: TokenizerPlugin, name?: string): number {
  if (name !== undefined) {
    const id = tokenizer.tokenToId(name);
    if (id === undefined) throw new PretrainError(`clm: separatorToken "${name}" is not in the tokenizer's vocabulary`, { path: objectivePath('clm', 'separatorToken') });
    return id;
  }
  const special = tokenizer.specialTokenIds();
  const id = special.eos ?? special.bos ?? special.sep;
  if (id === undefined) throw new PretrainError('clm: the tokenizer has no eos/bos/[SEP] token to separate documents; set options.separatorToken', { path: objectivePath('clm', 'separatorToken') });
  return id;
}

/**
 * GPT-style packing: every document's tokens followed by the separator, concatenated into one
 * stream and cut into contiguous blocks of blockSize tokens.
 */
export class BlockBuilder implements ExampleBuilder {
  constructor(private readonly options: BlockBuilderOptions) {}

  async *build(documents: AsyncIterable<TokenizedDocument>, context: ExampleBuilderContext): AsyncIterable<Example> {
    const blockSize = this.options.blockSize || context.maxLength;
    if (blockSize < 2) throw new PretrainError(`clm: blockSize ${blockSize} is too small (next-token prediction needs at least 2 tokens)`, { path: objectivePath('clm', 'blockSize') });
    if (blockSize > context.maxLength) throw new PretrainError(`clm: blockSize ${blockSize} exceeds the run's maxLength ${context.maxLength}`, { path: objectivePath('clm', 'blockSize') });
    const separator = separatorId(context.tokenizer, this.options.separatorToken);
    let block = new Int32Array(blockSize);
    let filled = 0;
    const push = function* (id: number): Iterable<Example> {
      block[filled++] = id;
      if (filled === blockSize) {
        yield blockExample(block, separator);
        block = new Int32Array(blockSize);
        filled = 0;
      }
    };
    for await (const document of documents) {
      for (const sentence of document.sentences) for (const id of sentence) yield* push(id);
      yield* push(separator);
    }
    if (filled > 0 && !this.options.dropRemainder) yield blockExample(block.subarray(0, filled), separator);
  }
}

function blockExample(ids: Int32Array, separator: number): Example {
  const inputIds = Int32Array.from(ids);
  return { inputIds, specialTokensMask: Uint8Array.from(inputIds, (id) => (id === separator ? 1 : 0)) };
}

import type { IteratorState, ResumableStream, TextDocument, TokenizedDocument, TokenizerPlugin } from '@pretrain/core';

/**
 * Tokenizes a document stream on the fly (no cache): for small corpora and tests. The state is
 * the source's, so resuming works exactly as for the source. Large corpora should use the token
 * cache, which tokenizes once on every core.
 */
export function tokenizeStream(source: ResumableStream<TextDocument>, tokenizer: TokenizerPlugin): ResumableStream<TokenizedDocument> {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const document of source) {
        const encodings = tokenizer.encodeBatch(document.sentences, { addSpecialTokens: false });
        yield { id: document.id, sentences: encodings.map((e) => Int32Array.from(e.ids)) };
      }
    },
    getState: (): IteratorState => source.getState(),
    setState: (state: IteratorState) => source.setState(state),
  };
}

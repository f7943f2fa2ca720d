import { readSample } from '@pretrain/core/testing';
import { sampleText } from './generate';
import { trainTokenizer } from './tokenizers';

describe('sampleText', () => {
  it('does not print the end-of-text token that stopped sampling', async () => {
    const texts = (async function* () {
      yield* readSample().split('\n');
    })();
    const tokenizer = await trainTokenizer(texts, { type: 'bpe', vocabSize: 300 });
    const eos = tokenizer.specialTokenIds().eos!;
    const ids = [...tokenizer.encode(' the rabbit', null, { addSpecialTokens: false }).ids, eos];
    expect(tokenizer.decode(ids)).toContain('<|endoftext|>');
    expect(sampleText(tokenizer, ids)).toBe(' the rabbit');
  });
});

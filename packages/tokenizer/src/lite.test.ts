// Token-cache workers load `@pretrain/tokenizer/lite`: it must not pull in zod or TensorFlow.js
// (through @pretrain/core's full entry), so requiring either fails here.
import { forbidZodAndTensorFlow } from '@pretrain/core/testing';

forbidZodAndTensorFlow('@pretrain/tokenizer/lite');

describe('@pretrain/tokenizer/lite', () => {
  it('loads without zod and TensorFlow.js and tokenizes', () => {
    const lite = require('./lite') as typeof import('./lite');
    const vocab = new Map(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '##s', '!'].map((token, id) => [token, id]));
    const tokenizer = lite.bertTokenizer(new lite.WordPiece(vocab, { unkToken: '[UNK]' }));
    expect(Array.from(tokenizer.encodeIds('Hello worlds!'))).toEqual([5, 6, 7, 8]);
  });

  it('exports everything the package root does except the plugin definitions', () => {
    const lite = require('./lite') as Record<string, unknown>;
    jest.resetModules();
    jest.unmock('zod');
    jest.unmock('@tensorflow/tfjs-core');
    const root = require('./index') as Record<string, unknown>;
    const pluginExports = Object.keys(require('./plugin') as Record<string, unknown>);
    expect(Object.keys(lite).sort()).toEqual(Object.keys(root).filter((name) => !pluginExports.includes(name)).sort());
  });
});

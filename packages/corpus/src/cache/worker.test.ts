// Each token-cache worker loads this module graph before its first sentence: it must not pull in
// zod or TensorFlow.js (through @pretrain/core's full entry), so requiring either fails here.
import { forbidZodAndTensorFlow } from '@pretrain/core/testing';

forbidZodAndTensorFlow('the tokenizer worker');

describe('tokenizer worker module', () => {
  it('loads without zod and TensorFlow.js', () => {
    expect(() => require('./worker')).not.toThrow();
  });

  it('would fail if it loaded them (the check can fail)', () => {
    expect(() => require('./build')).toThrow(/loaded (zod|TensorFlow\.js)/);
  });
});

// Each token-cache worker loads this module graph before its first sentence: it must not pull in
// zod or TensorFlow.js (through @pretrain/core's full entry), so requiring either fails here.
jest.mock('zod', () => {
  throw new Error('the tokenizer worker loaded zod');
});
jest.mock('@tensorflow/tfjs-core', () => {
  throw new Error('the tokenizer worker loaded TensorFlow.js');
});

describe('tokenizer worker module', () => {
  it('loads without zod and TensorFlow.js', () => {
    expect(() => require('./worker')).not.toThrow();
  });

  it('would fail if it loaded them (the check can fail)', () => {
    expect(() => require('./build')).toThrow(/loaded (zod|TensorFlow\.js)/);
  });
});

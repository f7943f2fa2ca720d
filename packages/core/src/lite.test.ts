// `@pretrain/core/lite` must load without zod and TensorFlow.js: requiring either fails here.
import { forbidZodAndTensorFlow } from './testing/forbid-heavy-modules';

forbidZodAndTensorFlow('@pretrain/core/lite');

describe('@pretrain/core/lite', () => {
  it('loads without zod and TensorFlow.js', () => {
    const lite = require('./lite') as typeof import('./lite');
    expect(new lite.PretrainError('x')).toBeInstanceOf(Error);
    expect(typeof lite.writeFileAtomic).toBe('function');
    expect(typeof lite.GrowableIntArray).toBe('function');
  });

  it('fails when a module it loads needs zod (the check can fail)', () => {
    expect(() => require('./config')).toThrow('loaded zod');
  });
});

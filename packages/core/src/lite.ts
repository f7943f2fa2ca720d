/**
 * `@pretrain/core/lite`: the parts of core that load without TensorFlow.js or zod — errors,
 * JSON reads, atomic writes, growable id buffers and the plugin contract's types. Code that runs in tokenizer
 * worker threads imports this instead of `@pretrain/core`: loading the whole of core costs each
 * worker ~0.15 s it would spend before its first sentence.
 */
export type * from './contract';
export * from './errors';
export * from './atomic';
export * from './json-file';
export * from './growable';

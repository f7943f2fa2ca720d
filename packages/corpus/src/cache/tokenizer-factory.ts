import { createRequire } from 'module';
import * as path from 'path';
import type { TokenizerPlugin } from '@pretrain/core/lite';

/** How a worker thread rebuilds the tokenizer from its JSON: `require(module)[exportName](json)`. */
export interface TokenizerFactory {
  module: string;
  exportName: string;
}

/** `@pretrain/tokenizer/lite` rather than the package root: workers then load neither zod nor TensorFlow.js. */
export const defaultTokenizerFactory: TokenizerFactory = { module: '@pretrain/tokenizer/lite', exportName: 'fromTokenizerJSON' };

/**
 * What a project with a @pretrain/tokenizer older than its `/lite` entry loads instead of the default
 * (the corpus does not depend on the tokenizer package, so their versions may differ).
 */
const DEFAULT_FALLBACK_MODULE = '@pretrain/tokenizer';

/**
 * Loads the factory from the user's project first (cwd), then from this package's location. For the
 * default factory, a tokenizer package without the `/lite` entry is loaded from its root instead.
 */
export function loadTokenizer(factory: TokenizerFactory, json: string): TokenizerPlugin {
  const bases = [path.join(process.cwd(), 'noop.js'), __filename];
  const modules = factory.module === defaultTokenizerFactory.module ? [factory.module, DEFAULT_FALLBACK_MODULE] : [factory.module];
  let lastError: unknown;
  for (const base of bases) {
    for (const module of modules) {
      let resolved: string;
      try {
        resolved = createRequire(base).resolve(module);
      } catch (error) {
        lastError ??= error;
        continue;
      }
      const exported = createRequire(base)(resolved)[factory.exportName];
      if (typeof exported !== 'function') throw new Error(`tokenizer factory: module "${module}" has no function export "${factory.exportName}"`);
      return exported(json) as TokenizerPlugin;
    }
  }
  throw new Error(`tokenizer factory: cannot load module "${factory.module}" (${(lastError as Error)?.message ?? 'not found'})`);
}

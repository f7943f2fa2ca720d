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

/** Loads the factory from the user's project first (cwd), then from this package's location. */
export function loadTokenizer(factory: TokenizerFactory, json: string): TokenizerPlugin {
  const bases = [path.join(process.cwd(), 'noop.js'), __filename];
  let lastError: unknown;
  for (const base of bases) {
    let resolved: string;
    try {
      resolved = createRequire(base).resolve(factory.module);
    } catch (error) {
      lastError = error;
      continue;
    }
    const exported = createRequire(base)(resolved)[factory.exportName];
    if (typeof exported !== 'function') throw new Error(`tokenizer factory: module "${factory.module}" has no function export "${factory.exportName}"`);
    return exported(json) as TokenizerPlugin;
  }
  throw new Error(`tokenizer factory: cannot load module "${factory.module}" (${(lastError as Error)?.message ?? 'not found'})`);
}

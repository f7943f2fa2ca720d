/** What the package's scripts share: where the repository is, and `--name value` options. */
import * as fs from 'fs';
import * as path from 'path';

// run-ts.js bundles a script into a temporary `pretrain-tokenizer-*` folder and runs it from the package folder.
const root = path.resolve(__dirname.includes('pretrain-tokenizer-') ? process.cwd() : path.join(__dirname, '../../..'));

/** The repository root (its `fixtures/` sit there; `../shared` next to it). */
export const repoRoot = fs.existsSync(path.join(root, 'fixtures')) ? root : path.resolve(root, '../..');

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

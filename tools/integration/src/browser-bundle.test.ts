/**
 * The ground for fine-tuning in a web page: core + tokenizer + model-bert + objective-mlm + trainer
 * bundle for the browser platform with esbuild, with no error and no warning. Node's builtins reach
 * these packages only through their `browser` field (`@pretrain/core/node-only`, which names what is
 * Node-only when called), so a new top-level `require('fs')` (or a bundled esbuild) fails here.
 */
import * as path from 'path';
import { build, type Message } from 'esbuild';

const root = path.join(__dirname, '../../..');
const PACKAGES = ['core', 'tokenizer', 'model-bert', 'objective-mlm', 'trainer'];

function format(messages: Message[]): string[] {
  return messages.map((m) => `${m.text}${m.location ? ` (${m.location.file}:${m.location.line})` : ''}`);
}

test('core, tokenizer, model-bert, objective-mlm and trainer bundle for the browser with no errors or warnings', async () => {
  const contents = PACKAGES.map((name) => `export * as ${name.replace(/-/g, '_')} from '@pretrain/${name}';`).join('\n');
  let errors: string[] = [];
  let warnings: string[] = [];
  let inputs: string[] = [];
  try {
    const result = await build({ stdin: { contents, resolveDir: root, loader: 'js' }, bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent', absWorkingDir: root });
    warnings = format(result.warnings);
    inputs = Object.keys(result.metafile!.inputs);
  } catch (error) {
    const failure = error as { errors?: Message[]; warnings?: Message[] };
    if (!failure.errors) throw error;
    errors = format(failure.errors);
    warnings = format(failure.warnings ?? []);
  }
  expect(errors).toEqual([]);
  expect(warnings).toEqual([]);
  // Every @pretrain package was bundled from its build output, and esbuild itself (tokenizer's development-only worker bundling) was not.
  for (const name of PACKAGES) expect(inputs.some((file) => file.startsWith(`packages/${name}/dist/`))).toBe(true);
  expect(inputs.filter((file) => file.includes('node_modules/esbuild/'))).toEqual([]);
}, 120_000);

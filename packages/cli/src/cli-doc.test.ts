/**
 * The example commands of docs/cli.md and docs/guides/pretrain-gpt.md run as written from the
 * repository root with the configs they name (files in the repo), in order, outputs redirected to a
 * temporary folder and training capped at 2 steps. The one line that needs `pretrain demo --preset gpt`
 * first is only parsed. The configs the guides show are the files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseCommandArgs } from './command';
import { allCommands } from './commands';
import { findCommand } from './main';
import { REPO_ROOT, runBin, shellWords, suiteTempDir } from './test-utils/run-bin';

function section(file: string, heading?: string): string {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'docs', file), 'utf8');
  return heading ? text.slice(text.indexOf(heading)) : text;
}

function commandLines(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1].split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('pretrain '));
}

const work = suiteTempDir('cli-doc');

/** Runs the lines in order; returns stdout per line. */
function runAll(lines: string[], skip: (line: string) => boolean): string[] {
  return lines.map((line) => {
    const args = shellWords(line)
      .slice(1)
      .map((w) => w.replace(/^(runs|export)\//, `${work}/$1/`));
    if (skip(line)) {
      const { command, rest } = findCommand(allCommands, args);
      expect(() => parseCommandArgs(command!, rest)).not.toThrow();
      return '';
    }
    if (['pretrain', 'finetune', 'search'].includes(args[0])) args.push('--set', 'trainer.maxSteps=2', '--set', 'trainer.batchSize=4');
    if (args[0] === 'generate') args.push('--max-new-tokens', '5');
    const result = runBin(args);
    expect({ line, status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ line, status: 0, stderr: '' });
    return result.stdout;
  });
}

describe('docs/cli.md examples', () => {
  it('run in order as written (the generate line after the GPT demo is only parsed)', () => {
    const lines = commandLines(section('cli.md', '## Examples'));
    expect(lines.length).toBe(12);
    const outputs = runAll(lines, (line) => line.includes('runs/demo-gpt'));
    expect(outputs[5]).toMatch(/validation\s+24\s/);
    expect(JSON.parse(outputs[6].trim())).toMatchObject({ text: 'Great phone, works well', label: expect.stringMatching(/^[01]$/) });
    expect(fs.existsSync(path.join(work, 'export', 'bert', 'config.json'))).toBe(true);
  });
});

describe('docs/guides/pretrain-gpt.md', () => {
  it('shows docs/examples/gpt.yaml as it is, and its commands run: tokenizer, GPT pre-training (ids from the tokenizer), generate', () => {
    const guide = section(path.join('guides', 'pretrain-gpt.md'));
    expect(guide).toContain(`\`\`\`yaml\n${fs.readFileSync(path.join(REPO_ROOT, 'docs', 'examples', 'gpt.yaml'), 'utf8')}\`\`\``);
    const outputs = runAll(commandLines(guide), () => false);
    expect(outputs[2]).toContain('--- sample 3');
    const config = JSON.parse(fs.readFileSync(path.join(work, 'runs', 'gpt', 'checkpoint', 'config.json'), 'utf8'));
    const tokenizer = JSON.parse(fs.readFileSync(path.join(work, 'runs', 'bpe', 'tokenizer.json'), 'utf8'));
    expect(config.vocab_size).toBe(2000);
    expect(config.eos_token_id).toBe(tokenizer.model.vocab['<|endoftext|>'] ?? tokenizer.added_tokens.find((t: { content: string }) => t.content === '<|endoftext|>').id);
  });
});

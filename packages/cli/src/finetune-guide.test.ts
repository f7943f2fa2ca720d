/**
 * docs/guides/finetune-your-data.md cannot drift: every config it shows is byte-for-byte a file in
 * docs/guides/finetune/, and every `pretrain` command in it runs with the built binary from the
 * repository root (fine-tuning capped at 1 step to stay quick; outputs go to a temporary folder).
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT, runBin, shellWords, suiteTempDir } from './test-utils/run-bin';

const GUIDE = path.join(REPO_ROOT, 'docs', 'guides', 'finetune-your-data.md');
const CONFIG_DIR = path.join(REPO_ROOT, 'docs', 'guides', 'finetune');
const guide = fs.readFileSync(GUIDE, 'utf8');

function blocks(language: string): string[] {
  return [...guide.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

const runs = suiteTempDir('guide');

describe('docs/guides/finetune-your-data.md', () => {
  it('shows every config of docs/guides/finetune/ exactly as the file is, and links it', () => {
    const shown = blocks('yaml');
    const files = fs.readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual(['conll-ner.yaml', 'conll-pos.yaml', 'mrpc.yaml', 'squad.yaml', 'sst2.yaml', 'stsb.yaml']);
    for (const file of files) {
      expect({ file, shown: shown.includes(fs.readFileSync(path.join(CONFIG_DIR, file), 'utf8')) }).toEqual({ file, shown: true });
      expect(guide).toContain(`(finetune/${file})`);
    }
  });

  const commands = blocks('sh')
    .flatMap((b) => b.split('\n'))
    .map((l) => l.trim())
    .filter((l) => l.startsWith('pretrain '));

  it('has a finetune, evaluate and predict command per task', () => {
    for (const file of fs.readdirSync(CONFIG_DIR)) {
      const name = path.basename(file, '.yaml');
      expect(commands.filter((c) => c.includes(`runs/${name}/`) || c.includes(`runs/${name} `) || c.endsWith(`runs/${name}`)).map((c) => c.split(' ')[1])).toEqual(['finetune', 'evaluate', 'predict']);
    }
  });

  it('every command runs as written (finetune for 1 step), printing the label lines the guide shows', () => {
    const printed: string[] = [];
    for (const command of commands) {
      const args = shellWords(command)
        .slice(1)
        .map((w) => w.replace(/^runs\//, `${runs}/`));
      if (args[0] === 'finetune') args.push('--set', 'trainer.maxSteps=1', '--set', 'trainer.evalEverySteps=1');
      const result = runBin(args);
      expect({ command, status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ command, status: 0, stderr: '' });
      printed.push(...result.stdout.split('\n'));
      if (args[0] === 'predict') for (const line of result.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
      if (args[0] === 'evaluate') expect(result.stdout).toMatch(/metrics: .*eval-validation\.json/);
    }
    const labelLines = guide.split('\n').filter((l) => l.startsWith('labels: '));
    expect(labelLines.length).toBeGreaterThanOrEqual(3);
    for (const line of labelLines) expect(printed).toContain(line);
  });
});

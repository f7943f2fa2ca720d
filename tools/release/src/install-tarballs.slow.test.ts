/**
 * SLOW (about a minute: npm install). The "install individual packages" use case: pack core, tokenizer,
 * corpus, model-bert, objective-mlm and trainer, install the tarballs into a fresh project outside the
 * workspace, build a token cache with a worker there (which loads the `/lite` subpath entries through the
 * packages' export maps) and train a few steps. Set PRETRAIN_SKIP_SLOW=1 to skip.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../../..');
const PACKAGES = ['core', 'tokenizer', 'corpus', 'model-bert', 'objective-mlm', 'trainer'];
const slow = process.env.PRETRAIN_SKIP_SLOW ? it.skip : it;
if (process.env.PRETRAIN_SKIP_SLOW) console.warn('install-tarballs: skipped (PRETRAIN_SKIP_SLOW is set)');

describe('packed tarballs install and train outside the workspace', () => {
  slow('npm install of six tarballs into a temp project, then a token cache and a few MLM steps with the installed copies', () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-release-'));
    const packs = path.join(project, 'tarballs');
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'tools/scripts/pack-all.js'), '--no-build', '--only', PACKAGES.join(','), '--out', packs], { cwd: ROOT, stdio: 'pipe' });
      const manifest = JSON.parse(fs.readFileSync(path.join(packs, 'manifest.json'), 'utf8')) as { name: string; file: string }[];
      expect(manifest.map((m) => m.name).sort()).toEqual(PACKAGES.map((p) => `@pretrain/${p}`).sort());
      const dependencies = Object.fromEntries(manifest.map((m) => [m.name, `file:${path.relative(project, m.file)}`]));
      fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'pretrain-release-check', private: true, dependencies }, null, 2));
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: project, stdio: 'pipe', timeout: 480_000 });

      for (const name of PACKAGES) {
        const installed = path.join(project, 'node_modules', '@pretrain', name);
        expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
        expect(fs.realpathSync(installed).startsWith(ROOT)).toBe(false);
        expect(fs.existsSync(path.join(installed, 'dist', 'index.d.ts'))).toBe(true);
        expect(fs.existsSync(path.join(installed, 'src'))).toBe(false);
      }
      fs.copyFileSync(path.join(__dirname, 'train-few-steps.js'), path.join(project, 'train.js'));
      const output = execFileSync(process.execPath, ['train.js'], { cwd: project, encoding: 'utf8', timeout: 300_000 });
      const result = JSON.parse(output.trim().split('\n').pop()!) as { steps: number; losses: number[]; resolved: string; cache: { tokens: number; sentences: number; sameIds: boolean; liteErrorsAreCoreErrors: boolean } };
      expect(result.resolved.startsWith(path.join(project, 'node_modules'))).toBe(true);
      expect(result.cache.tokens).toBeGreaterThan(50);
      expect(result.cache.sentences).toBe(12);
      expect(result.cache.sameIds).toBe(true);
      expect(result.cache.liteErrorsAreCoreErrors).toBe(true);
      expect(result.steps).toBe(12);
      expect(result.losses.every(Number.isFinite)).toBe(true);
      const first = (result.losses[0] + result.losses[1]) / 2;
      const last = (result.losses[10] + result.losses[11]) / 2;
      expect(last).toBeLessThan(first);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});

/**
 * SLOW (npm install). The native backend as users get it: pack @pretrain/core and @pretrain/backend-native
 * (whose tarball carries the C source, not a binary) and the prebuilt platform package
 * (@pretrain/backend-native-<platform>-<arch>, scripts/pack-prebuilt.js), install the three into a fresh
 * project outside the workspace, and run a product on backend "native" there. Where no binary is built
 * (no compiler or OpenBLAS; never in CI, which requires it), it checks that packing says so instead.
 * Set PRETRAIN_SKIP_SLOW=1 to skip.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../../..');
const NATIVE = path.join(ROOT, 'packages', 'backend-native');
const built = fs.existsSync(path.join(NATIVE, 'build', 'pretrain_native.node'));
const slow = process.env.PRETRAIN_SKIP_SLOW ? it.skip : it;
if (process.env.PRETRAIN_SKIP_SLOW) console.warn('install-native: skipped (PRETRAIN_SKIP_SLOW is set)');

describe('the native backend from tarballs', () => {
  if (!built) {
    it('without a built binary there is nothing to pack, and packing says why (not allowed in CI)', () => {
      expect(process.env.PRETRAIN_NATIVE_REQUIRED).not.toBe('1');
      const result = spawnSync(process.execPath, [path.join(NATIVE, 'scripts', 'pack-prebuilt.js'), '--out', fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-prebuilt-'))], { encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/is not built/);
    });
    return;
  }

  slow('core + backend-native + the prebuilt platform package install and run a product on backend native', () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-native-'));
    const packs = path.join(project, 'tarballs');
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'tools/scripts/pack-all.js'), '--no-build', '--only', 'core,backend-native', '--out', packs], { cwd: ROOT, stdio: 'pipe' });
      const manifest = JSON.parse(fs.readFileSync(path.join(packs, 'manifest.json'), 'utf8')) as { name: string; file: string }[];
      const prebuilt = JSON.parse(execFileSync(process.execPath, [path.join(NATIVE, 'scripts', 'pack-prebuilt.js'), '--out', packs], { encoding: 'utf8' }).trim()) as { name: string; file: string };
      expect(prebuilt.name).toBe(`@pretrain/backend-native-${process.platform}-${process.arch}`);
      const tarballs = [...manifest, prebuilt];
      const dependencies = Object.fromEntries(tarballs.map((m) => [m.name, `file:${path.relative(project, m.file)}`]));
      fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'pretrain-native-check', private: true, dependencies }, null, 2));
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: project, stdio: 'pipe', timeout: 480_000 });

      const installed = path.join(project, 'node_modules', '@pretrain', 'backend-native');
      expect(fs.existsSync(path.join(installed, 'native', 'pretrain_native.c'))).toBe(true);
      expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
      fs.copyFileSync(path.join(__dirname, 'native-check.js'), path.join(project, 'check.js'));
      const output = execFileSync(process.execPath, ['check.js'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
      const result = JSON.parse(output.trim().split('\n').pop()!) as { file: string; backend: { name: string; detail: string }; product: number[][]; native: string[] };
      expect(result.file).toBe(path.join(fs.realpathSync(project), 'node_modules', '@pretrain', `backend-native-${process.platform}-${process.arch}`, 'pretrain_native.node'));
      expect(result.backend.name).toBe('native');
      expect(result.backend.detail).toMatch(/^OpenBLAS /);
      expect(result.product).toEqual([
        [17, 23],
        [39, 53],
      ]);
      expect(result.native).toEqual(expect.arrayContaining(['BatchMatMul@wasm (native)', 'PretrainAdamW@wasm (native)']));
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});

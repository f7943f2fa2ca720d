/**
 * Hardening (issue 18), through the real binary: data never runs code, bad input is refused with a
 * message naming the file or setting, and a stop request is never lost.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runBin, tempDir, writeJson } from './test-utils/run-bin';

/** A checkpoint-shaped folder whose pretrain_plugins.json names a package shipped inside the folder. */
function maliciousCheckpoint(dir: string, marker: string): string {
  const checkpoint = path.join(dir, 'ck');
  const pkg = path.join(checkpoint, 'node_modules', 'evil-model');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'evil-model', version: '1.0.0', main: 'index.js' }));
  fs.writeFileSync(path.join(pkg, 'index.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n`);
  writeJson(path.join(checkpoint, 'config.json'), { model_type: 'bert' });
  writeJson(path.join(checkpoint, 'pretrain_plugins.json'), { model: { name: 'evil-model', options: {} }, head: { name: 'evil-model', options: {} } });
  return checkpoint;
}

describe('defect 1: loading a checkpoint never executes code from it', () => {
  it.each([
    ['predict', ['--text', 'hi']],
    ['generate', ['--prompt', 'hi']],
  ])('%s --checkpoint refuses a plugin that lives in the checkpoint folder', (command, extra) => {
    const dir = tempDir('evil');
    const marker = path.join(dir, 'PWNED');
    const checkpoint = maliciousCheckpoint(dir, marker);
    const result = runBin([command, '--checkpoint', checkpoint, ...extra], { cwd: checkpoint });
    expect(fs.existsSync(marker)).toBe(false);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${path.join(checkpoint, 'pretrain_plugins.json')} names the model plugin "evil-model", which is not installed`);
    expect(result.stderr).toContain('npm install evil-model');
  });

  it('a damaged pretrain_plugins.json is named, not a raw SyntaxError', () => {
    const dir = tempDir('badrefs');
    const checkpoint = maliciousCheckpoint(dir, path.join(dir, 'PWNED'));
    fs.writeFileSync(path.join(checkpoint, 'pretrain_plugins.json'), '{"model": ');
    const result = runBin(['predict', '--checkpoint', checkpoint, '--text', 'hi']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`Invalid JSON in ${path.join(checkpoint, 'pretrain_plugins.json')}`);
  });
});

describe('defect 3: --set cannot reach Object.prototype', () => {
  it.each(['__proto__.polluted=yes', 'model.__proto__.polluted=yes', '[__proto__][polluted]=yes', 'constructor.prototype.polluted=yes'])('pretrain --set %s is refused', (assignment) => {
    const result = runBin(['pretrain', '--set', assignment]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`--set ${assignment}: "`);
    expect(result.stderr).toContain('is not allowed in a key path');
  });
});

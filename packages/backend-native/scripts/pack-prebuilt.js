#!/usr/bin/env node
/**
 * Packs build/pretrain_native.node as the prebuilt binary package for this platform,
 * @pretrain/backend-native-<platform>-<arch> (the way esbuild and @swc/core ship theirs: one small
 * package per platform, with `os` and `cpu` set, that @pretrain/backend-native finds at run time).
 * Only a binary with OpenBLAS linked statically is packed (it then needs only libc and libm).
 *
 *   node packages/backend-native/scripts/pack-prebuilt.js [--out DIR]   (default: dist/packages)
 */
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const binary = path.join(root, 'build', 'pretrain_native.node');
const info = path.join(root, 'build', 'build-info.json');

function main() {
  const outIndex = process.argv.indexOf('--out');
  const out = path.resolve(outIndex >= 0 ? process.argv[outIndex + 1] : path.join(root, '..', '..', 'dist', 'packages'));
  if (!fs.existsSync(binary) || !fs.existsSync(info)) throw new Error(`pack-prebuilt: ${binary} is not built (npm run build in packages/backend-native; needs gcc and libopenblas-dev)`);
  const built = JSON.parse(fs.readFileSync(info, 'utf8'));
  if (built.openblas !== 'static') throw new Error('pack-prebuilt: the binary links OpenBLAS dynamically; a prebuilt package needs it linked statically (libopenblas.a)');
  if (built.onednn) throw new Error('pack-prebuilt: the binary links oneDNN dynamically (built with PRETRAIN_NATIVE_ONEDNN=1); rebuild without it for a prebuilt package');
  if (built.platform !== process.platform || built.arch !== process.arch) throw new Error(`pack-prebuilt: the binary was built for ${built.platform}-${built.arch}`);
  const parent = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const name = `${parent.name}-${process.platform}-${process.arch}`;
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-prebuilt-'));
  try {
    fs.copyFileSync(binary, path.join(stage, 'pretrain_native.node'));
    const manifest = {
      name,
      version: parent.version,
      description: `The ${process.platform}-${process.arch} binary of ${parent.name} (OpenBLAS linked statically)`,
      license: parent.license,
      os: [process.platform],
      cpu: [process.arch],
      files: ['pretrain_native.node', 'README.md'],
      publishConfig: { access: 'public' },
    };
    fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    fs.writeFileSync(path.join(stage, 'README.md'), `# ${name}\n\nThe prebuilt native binary of [${parent.name}](https://www.npmjs.com/package/${parent.name}) for ${process.platform}-${process.arch}. Install it next to ${parent.name}; it finds it.\n`);
    fs.mkdirSync(out, { recursive: true });
    const output = execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: stage, encoding: 'utf8' });
    const [packed] = JSON.parse(output.slice(output.indexOf('[')));
    const file = path.join(out, packed.filename);
    process.stdout.write(`${JSON.stringify({ name, version: parent.version, file })}\n`);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

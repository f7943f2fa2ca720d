#!/usr/bin/env node
/**
 * Builds every publishable @pretrain/* package and `npm pack`s it into one folder (default: dist/packages
 * at the repository root). Versions and changelogs come from changesets (`npm run version-packages`)
 * before this runs; publishing is `npm publish <tarball>` per file, in dependency order (core first).
 *
 *   node tools/scripts/pack-all.js [--out DIR] [--no-build] [--only name,name]
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '../..');

function parseArgs(argv) {
  const args = { out: path.join(root, 'dist', 'packages'), build: true, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') args.out = path.resolve(argv[++i]);
    else if (argv[i] === '--no-build') args.build = false;
    else if (argv[i] === '--only') args.only = argv[++i].split(',').map((s) => s.trim());
    else throw new Error(`pack-all: unknown argument ${argv[i]}`);
  }
  return args;
}

/** Publishable workspace packages (packages/*, not private), as { name, dir }. */
function publishablePackages() {
  const dir = path.join(root, 'packages');
  return fs
    .readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((d) => fs.existsSync(path.join(d, 'package.json')))
    .map((d) => ({ dir: d, manifest: JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private)
    .map(({ dir: d, manifest }) => ({ name: manifest.name, version: manifest.version, dir: d }));
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  let packages = publishablePackages();
  if (args.only) packages = packages.filter((p) => args.only.includes(p.name) || args.only.includes(p.name.replace('@pretrain/', '')));
  if (packages.length === 0) throw new Error('pack-all: no packages selected');
  if (args.build) {
    const projects = packages.map((p) => p.name).join(',');
    execFileSync(process.execPath, [require.resolve('nx/bin/nx.js'), 'run-many', '-t', 'build', `--projects=${projects}`, '--parallel=2'], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false' },
    });
  }
  fs.mkdirSync(args.out, { recursive: true });
  const tarballs = [];
  for (const pkg of packages) {
    if (!fs.existsSync(path.join(pkg.dir, 'dist', 'index.js'))) throw new Error(`pack-all: ${pkg.name} is not built (${pkg.dir}/dist/index.js missing); run without --no-build`);
    const output = execFileSync('npm', ['pack', '--json', '--pack-destination', args.out], { cwd: pkg.dir, encoding: 'utf8' });
    const [info] = JSON.parse(output.slice(output.indexOf('[')));
    tarballs.push({ name: pkg.name, version: pkg.version, file: path.join(args.out, info.filename), files: info.entryCount, bytes: info.size });
    process.stdout.write(`packed ${pkg.name}@${pkg.version} → ${path.relative(root, path.join(args.out, info.filename))} (${info.entryCount} files)\n`);
  }
  fs.writeFileSync(path.join(args.out, 'manifest.json'), `${JSON.stringify(tarballs, null, 2)}\n`);
  return tarballs;
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`pack-all: ${error.message}\n`);
    process.exit(1);
  }
}

module.exports = { publishablePackages, main };

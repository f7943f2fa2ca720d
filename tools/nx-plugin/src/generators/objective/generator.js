// @ts-check
// Plain CommonJS so `nx g` runs it without a build or a TypeScript loader.
const path = require('path');
const { generateFiles, names, updateJson } = require('@nx/devkit');

/**
 * @typedef {{ name: string; description?: string; directory?: string; skipChangeset?: boolean }} ObjectiveGeneratorSchema
 */

/** Validated names used by the templates. @param {ObjectiveGeneratorSchema} options */
function normalize(options) {
  const name = String(options.name ?? '').trim();
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new Error(`objective generator: name "${name}" must be kebab-case (lowercase letters, digits, dashes; starting with a letter)`);
  }
  const { className, propertyName, constantName } = names(name);
  const directory = options.directory ?? 'packages';
  return {
    name,
    className,
    propertyName,
    constantName,
    packageName: `@pretrain/objective-${name}`,
    projectRoot: path.posix.join(directory, `objective-${name}`),
    rootOffset: path.posix.relative(path.posix.join(directory, `objective-${name}`), '.') + '/',
    description: options.description ?? `The ${name} pre-training objective as a Pretrain plugin`,
    tmpl: '',
  };
}

/**
 * Scaffolds packages/objective-<name>: package.json, README, tsconfigs, jest config, a minimal
 * working objective (example builder + a 2-way head on the mean-pooled sequence output), a test
 * that trains it, a tsconfig path entry and a changeset.
 * @param {import('@nx/devkit').Tree} tree
 * @param {ObjectiveGeneratorSchema} options
 */
async function objectiveGenerator(tree, options) {
  const n = normalize(options);
  if (tree.exists(path.posix.join(n.projectRoot, 'package.json'))) {
    throw new Error(`objective generator: ${n.projectRoot} already exists`);
  }
  generateFiles(tree, path.join(__dirname, 'files'), n.projectRoot, n);
  if (tree.exists('tsconfig.base.json')) {
    updateJson(tree, 'tsconfig.base.json', (json) => {
      json.compilerOptions = json.compilerOptions ?? {};
      json.compilerOptions.paths = { ...(json.compilerOptions.paths ?? {}), [n.packageName]: [`${n.projectRoot}/src/index.ts`] };
      return json;
    });
  }
  if (!options.skipChangeset) {
    tree.write(`.changeset/objective-${n.name}.md`, `---\n"${n.packageName}": minor\n---\n\nNew objective \`${n.name}\` (${n.packageName}), scaffolded by @pretrain/nx-plugin:objective.\n`);
  }
  return () => {
    console.log(`\nCreated ${n.packageName} in ${n.projectRoot}. Next:\n  npx jest -c ${n.projectRoot}/jest.config.js\n  npx tsc -p ${n.projectRoot}/tsconfig.lib.json\n  (run \`npm install\` once so the workspace links the new package)\n`);
  };
}

module.exports = objectiveGenerator;
module.exports.default = objectiveGenerator;
module.exports.objectiveGenerator = objectiveGenerator;
module.exports.normalize = normalize;

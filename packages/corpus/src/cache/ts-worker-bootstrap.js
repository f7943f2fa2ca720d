// Runs a TypeScript worker entry from the package sources (tests): installs an swc require hook and
// maps `@pretrain/<name>` (and its `/lite` subpath) to packages/<name>/src, then loads the entry. A published package runs
// its compiled worker.js directly and never needs this. A worker thread gets the entry and the
// packages directory in workerData, a child process as its two arguments.
'use strict';
const Module = require('module');
const fs = require('fs');
const path = require('path');
const { workerData } = require('worker_threads');

const tsEntry = workerData?.tsEntry ?? process.argv[2];
const packagesDir = workerData?.packagesDir ?? process.argv[3];
const swc = require(require.resolve('@swc/core', { paths: [tsEntry] }));
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  // `@pretrain/<name>` is src/index.ts, a subpath `@pretrain/<name>/lite` is src/lite.ts (as in jest.preset.js).
  const match = /^@pretrain\/([a-z0-9-]+)(?:\/(lite))?$/.exec(request);
  if (match) {
    const source = path.join(packagesDir, match[1], 'src', `${match[2] ?? 'index'}.ts`);
    if (fs.existsSync(source)) return source;
  }
  return resolveFilename.call(this, request, parent, ...rest);
};
Module._extensions['.ts'] = function (module, filename) {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require(tsEntry);

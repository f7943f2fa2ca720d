#!/usr/bin/env node
// Runs scripts/<name>.ts from its TypeScript source (bundled into dist/scripts/ by
// tools/scripts/run-ts.js). Usage: node scripts/run.js [bench-head] [args...]
const path = require('path');
const { runTsScript } = require('../../../tools/scripts/run-ts');

runTsScript({ scriptsDir: __dirname, outDir: path.join(__dirname, '../dist/scripts'), usage: `node ${path.relative(process.cwd(), __filename)}`, defaultName: 'bench-head' });

#!/usr/bin/env node
// Runs a benchmark from src/<name>.ts straight from the TypeScript sources (bundled into dist/ by
// tools/scripts/run-ts.js). Usage: node tools/bench/run.js <matmul|train|loss> [args...]
const path = require('path');
const { runTsScript } = require('../scripts/run-ts');

runTsScript({ scriptsDir: path.join(__dirname, 'src'), outDir: path.join(__dirname, 'dist'), usage: 'node tools/bench/run.js' });

#!/usr/bin/env node
// Runs scripts/<name>.ts from its TypeScript source (bundled into scripts/dist/ by
// tools/scripts/run-ts.js). Usage: node scripts/run.js <name> [args...]
const path = require('path');
const { runTsScript } = require('../../../tools/scripts/run-ts');

runTsScript({ scriptsDir: __dirname, outDir: path.join(__dirname, 'dist'), usage: `node ${path.relative(process.cwd(), __filename)}` });

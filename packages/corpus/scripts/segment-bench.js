#!/usr/bin/env node
/**
 * Sentence segmentation speed: segmentSentences (Intl.Segmenter in windows, walked with containing(),
 * plus abbreviation suppression and trimming) against the plain way, iterating
 * `new Intl.Segmenter('en', { granularity: 'sentence' }).segment(paragraph)`, on every paragraph of the
 * shared Gutenberg books (needs ../shared). Build dist first: `npx nx run @pretrain/corpus:build`.
 *   node scripts/segment-bench.js [--rounds 5]
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { segmentSentences } = require('../dist');

const gutenberg = path.resolve(__dirname, '../../../../shared/data/corpus/gutenberg');
if (!fs.existsSync(gutenberg)) {
  console.error(`segment-bench: ${gutenberg} is absent; this benchmark needs the shared Gutenberg corpus`);
  process.exit(1);
}
const args = process.argv.slice(2);
const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 5;
const text = fs.readdirSync(gutenberg).filter((f) => /^pg\d+\.txt$/.test(f)).map((f) => fs.readFileSync(path.join(gutenberg, f), 'utf8')).join('\n');
const paragraphs = text.split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter(Boolean);
const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

function time(run) {
  const started = performance.now();
  const count = run();
  return { ms: performance.now() - started, count };
}
const ours = () => paragraphs.reduce((n, p) => n + segmentSentences(p).length, 0);
const plain = () => paragraphs.reduce((n, p) => n + Array.from(segmenter.segment(p)).length, 0);

const ratios = [];
for (let round = 0; round < rounds; round++) {
  const a = time(ours);
  const b = time(plain);
  ratios.push(a.ms / b.ms);
  console.log(`round ${round + 1}: segmentSentences ${a.ms.toFixed(0)} ms (${a.count} sentences), plain Intl.Segmenter iteration ${b.ms.toFixed(0)} ms (${b.count} segments), ours/peer ${(a.ms / b.ms).toFixed(2)}`);
}
ratios.sort((x, y) => x - y);
console.log(`${paragraphs.length} paragraphs, ${(text.length / 1e6).toFixed(1)}M characters: median ours/peer ${ratios[Math.floor(ratios.length / 2)].toFixed(2)} (lower is faster)`);

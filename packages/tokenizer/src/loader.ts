/**
 * The one way a user-supplied tokenizer is loaded, whatever form it comes in. Node-only (fs); a
 * browser build gets core's node-only stub through the package's `browser` field, like builders.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PretrainError } from '@pretrain/core/lite';
import { fromBertVocab, fromGPT2Files } from './builders';
import { Tokenizer } from './tokenizer';

const ACCEPTED = 'a tokenizer.json or vocab.txt file, or a folder holding tokenizer.json, vocab.txt, or vocab.json + merges.txt';

/**
 * Loads an HF `tokenizer.json`, a BERT `vocab.txt`, or a folder holding (first found) `tokenizer.json`,
 * `vocab.txt` (BERT WordPiece) or `vocab.json` + `merges.txt` (GPT-2 byte-level BPE).
 */
export function loadTokenizer(pathOrDir: string): Tokenizer {
  if (!fs.existsSync(pathOrDir)) throw new PretrainError(`tokenizer ${pathOrDir} does not exist (expected ${ACCEPTED})`, { file: pathOrDir });
  return fs.statSync(pathOrDir).isDirectory() ? loadFromFolder(pathOrDir) : loadFromFile(pathOrDir);
}

function loadFromFile(file: string): Tokenizer {
  return file.endsWith('.txt') ? fromBertVocab(file) : Tokenizer.fromFile(file);
}

function loadFromFolder(dir: string): Tokenizer {
  const [tokenizerJson, vocabTxt, vocabJson, mergesTxt] = ['tokenizer.json', 'vocab.txt', 'vocab.json', 'merges.txt'].map((name) => path.join(dir, name));
  if (fs.existsSync(tokenizerJson)) return Tokenizer.fromFile(tokenizerJson);
  if (fs.existsSync(vocabTxt)) return fromBertVocab(vocabTxt);
  if (fs.existsSync(vocabJson) && fs.existsSync(mergesTxt)) return fromGPT2Files(vocabJson, mergesTxt);
  throw new PretrainError(`no tokenizer in folder ${dir}: looked for tokenizer.json, vocab.txt, or vocab.json + merges.txt`, { file: dir });
}

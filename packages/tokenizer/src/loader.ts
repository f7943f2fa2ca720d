/**
 * The one way a user-supplied tokenizer is loaded, whatever form it comes in. Node-only (fs); a
 * browser build gets core's node-only stub through the package's `browser` field, like builders.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, readJsonFile } from '@pretrain/core/lite';
import { fromBertVocab, fromGPT2Files, type BertPipelineOptions } from './builders';
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
  if (fs.existsSync(vocabTxt)) return fromBertVocab(vocabTxt, bertOptionsIn(dir));
  if (fs.existsSync(vocabJson) && fs.existsSync(mergesTxt)) return fromGPT2Files(vocabJson, mergesTxt);
  throw new PretrainError(`no tokenizer in folder ${dir}: looked for tokenizer.json, vocab.txt, or vocab.json + merges.txt`, { file: dir });
}

/** A cased BERT folder says so in tokenizer_config.json (the keys HF's BertTokenizerFast reads); a bare vocab.txt is uncased. */
function bertOptionsIn(dir: string): BertPipelineOptions {
  const file = path.join(dir, 'tokenizer_config.json');
  if (!fs.existsSync(file)) return {};
  const config = readJsonObject(file);
  const flag = (key: string) => (typeof config[key] === 'boolean' ? config[key] : undefined);
  return { lowercase: flag('do_lower_case'), stripAccents: flag('strip_accents'), handleChineseChars: flag('tokenize_chinese_chars') };
}

function readJsonObject(file: string): Record<string, unknown> {
  const value = readJsonFile(file);
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new PretrainError(`${file}: expected a JSON object`, { file });
}

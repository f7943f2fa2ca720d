/**
 * Registry plugins (kind "tokenizer"): `wordpiece` and `bpe` train from files (or load an existing
 * tokenizer), `hf` loads any HF tokenizer.json. Paths resolve against the config file's directory.
 */
import * as fs from 'fs';
import * as path from 'path';
import { definePlugin, PretrainError, z } from '@pretrain/core';
import { loadTokenizer } from './loader';
import { Tokenizer } from './tokenizer';
import { trainByteLevelBPE, trainWordPiece } from './trainers';

const trainingFields = {
  /** An existing tokenizer (tokenizer.json, vocab.txt, or a folder holding one; see loadTokenizer): loaded instead of training. */
  path: z.string().min(1).optional(),
  /** Training text files. */
  files: z.array(z.string().min(1)).min(1).optional(),
  minFrequency: z.number().int().nonnegative().default(0),
  specialTokens: z.array(z.string().min(1)).optional(),
  limitAlphabet: z.number().int().positive().optional(),
  /** Where the trained tokenizer.json goes; when it already exists it is loaded (delete it to retrain). */
  save: z.string().min(1).optional(),
  /** Counting threads (default: CPU cores). */
  threads: z.number().int().positive().optional(),
};

function needsSource<T extends { path?: string; files?: string[] }>(schema: z.ZodType<T>): z.ZodType<T> {
  return schema.refine((o) => o.path !== undefined || (o.files?.length ?? 0) > 0, 'give either `path` (an existing tokenizer) or `files` (training text)') as unknown as z.ZodType<T>;
}

export const wordPieceOptionsSchema = needsSource(
  z
    .object({
      ...trainingFields,
      vocabSize: z.number().int().positive().default(30522),
      lowercase: z.boolean().default(true),
      stripAccents: z.boolean().nullable().default(null),
      continuingSubwordPrefix: z.string().default('##'),
    })
    .strict(),
);

export const bpeOptionsSchema = needsSource(
  z
    .object({
      ...trainingFields,
      vocabSize: z.number().int().positive().default(50257),
      addPrefixSpace: z.boolean().default(false),
    })
    .strict(),
);

export const hfOptionsSchema = z.object({ path: z.string().min(1) }).strict();

export type WordPiecePluginOptions = z.infer<typeof wordPieceOptionsSchema>;
export type BPEPluginOptions = z.infer<typeof bpeOptionsSchema>;
export type HFPluginOptions = z.infer<typeof hfOptionsSchema>;

function resolveIn(baseDir: string, p: string): string {
  return path.isAbsolute(p) ? p : path.join(baseDir, p);
}

async function trainOrLoad(options: { path?: string; files?: string[]; save?: string }, baseDir: string, train: (files: string[]) => Promise<Tokenizer>): Promise<Tokenizer> {
  if (options.path) return loadTokenizer(resolveIn(baseDir, options.path));
  const saveTo = options.save ? resolveIn(baseDir, options.save) : null;
  if (saveTo && fs.existsSync(saveTo)) return Tokenizer.fromFile(saveTo);
  const files = (options.files ?? []).map((f) => resolveIn(baseDir, f));
  for (const f of files) if (!fs.existsSync(f)) throw new PretrainError(`training file not found: ${f}`, { file: f });
  const tokenizer = await train(files);
  if (saveTo) tokenizer.save(saveTo);
  return tokenizer;
}

export const wordPiecePlugin = definePlugin<'tokenizer', WordPiecePluginOptions>({
  kind: 'tokenizer',
  name: 'wordpiece',
  description: 'BERT WordPiece: trained on `files` (or loaded from `path`: tokenizer.json or vocab.txt)',
  options: wordPieceOptionsSchema as never,
  create: (o, context) =>
    trainOrLoad(o, context.baseDir, (files) =>
      trainWordPiece(files, { vocabSize: o.vocabSize, minFrequency: o.minFrequency, specialTokens: o.specialTokens, limitAlphabet: o.limitAlphabet ?? null, lowercase: o.lowercase, stripAccents: o.stripAccents, continuingSubwordPrefix: o.continuingSubwordPrefix, threads: o.threads }),
    ),
});

export const bpePlugin = definePlugin<'tokenizer', BPEPluginOptions>({
  kind: 'tokenizer',
  name: 'bpe',
  description: 'GPT-2 byte-level BPE: trained on `files` (or loaded from `path`)',
  options: bpeOptionsSchema as never,
  create: (o, context) =>
    trainOrLoad(o, context.baseDir, (files) =>
      trainByteLevelBPE(files, { vocabSize: o.vocabSize, minFrequency: o.minFrequency, specialTokens: o.specialTokens, limitAlphabet: o.limitAlphabet ?? null, addPrefixSpace: o.addPrefixSpace, threads: o.threads }),
    ),
});

export const hfTokenizerPlugin = definePlugin<'tokenizer', HFPluginOptions>({
  kind: 'tokenizer',
  name: 'hf',
  description: 'Any HuggingFace tokenizer.json (WordPiece, BPE, byte-level BPE), a BERT vocab.txt, or a folder holding tokenizer.json, vocab.txt or vocab.json + merges.txt',
  options: hfOptionsSchema as never,
  create: (o, context) => loadTokenizer(resolveIn(context.baseDir, o.path)),
});

export const pretrainPlugins = [wordPiecePlugin, bpePlugin, hfTokenizerPlugin];

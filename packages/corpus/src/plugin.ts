import { definePlugin, z } from '@pretrain/core';
import { TextCorpus } from './text/text-corpus';

const locale = z.string().refine((tag) => {
  try {
    new Intl.Segmenter(tag);
    return true;
  } catch {
    return false;
  }
}, 'not a valid BCP 47 locale tag');

/** Options of the `text` corpus plugin, with defaults filled in. */
export const textCorpusOptionsSchema = z
  .object({
    /** Files, directories and globs, relative to the config file. */
    paths: z.union([z.string(), z.array(z.string()).min(1)]).transform((p) => (Array.isArray(p) ? p : [p])),
    format: z.enum(['text', 'jsonl']).default('text'),
    layout: z.enum(['document', 'paragraphs', 'sentences']).default('paragraphs'),
    textField: z.string().min(1).default('text'),
    stripGutenberg: z.boolean().default(false),
    minLineLength: z.number().int().nonnegative().default(0),
    locale: locale.default('en'),
    maxLineLength: z.number().int().positive().default(1 << 20),
    maxRecordLength: z.number().int().positive().default(64 << 20),
    maxSentencesPerDocument: z.number().int().positive().default(10_000),
    skipInvalid: z.boolean().default(false),
    validationFraction: z.number().min(0).lt(1).default(0),
    /** Defaults to the experiment's seed. */
    seed: z.number().int().nonnegative().optional(),
    shuffle: z.boolean().default(true),
    shuffleBuffer: z.number().int().positive().default(1000),
    repeat: z.boolean().default(false),
  })
  .strict();

export type TextCorpusPluginOptions = z.infer<typeof textCorpusOptionsSchema>;

export const textCorpusPlugin = definePlugin<'corpus', TextCorpusPluginOptions>({
  kind: 'corpus',
  name: 'text',
  description: 'Plain-text or JSONL files (gzip ok): seeded shuffle, train/validation split by document hash, exact resume',
  options: textCorpusOptionsSchema as never,
  create: (options, context) => new TextCorpus({ ...options, baseDir: context.baseDir, seed: options.seed ?? context.seed }),
});

export const pretrainPlugins = [textCorpusPlugin];

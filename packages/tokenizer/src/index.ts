export * from './lite';
export { pretrainPlugins, wordPiecePlugin, bpePlugin, hfTokenizerPlugin, wordPieceOptionsSchema, bpeOptionsSchema, hfOptionsSchema } from './plugin';
export type { WordPiecePluginOptions, BPEPluginOptions, HFPluginOptions } from './plugin';

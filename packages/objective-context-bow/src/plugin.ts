import { objectivePlugin } from '@pretrain/core';
import { ContextContrast, contextContrastOptionsSchema } from './contrast';
import { ContextBagOfWords } from './objective';
import { contextBowOptionsSchema } from './options';

export const contextBowPlugin = objectivePlugin(ContextBagOfWords, {
  name: 'context-bow',
  description: "context bag-of-words: a window's mean-pooled states predict the words around it in the same document",
  options: contextBowOptionsSchema,
});

export const contextContrastPlugin = objectivePlugin(ContextContrast, {
  name: 'context-contrast',
  description: 'contrastive windows: two windows of one document are each other\'s nearest mean-pooled neighbour in the batch',
  options: contextContrastOptionsSchema,
});

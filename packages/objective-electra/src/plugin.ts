import { definePlugin } from '@pretrain/core';
import { ReplacedTokenDetection } from './objective';
import { electraOptionsSchema, type ElectraOptions } from './options';

export const electraPlugin = definePlugin<'objective', ElectraOptions>({
  kind: 'objective',
  name: 'electra',
  description: 'replaced-token detection (ELECTRA): a generator sharing the backbone proposes tokens, the discriminator judges every position',
  options: electraOptionsSchema,
  meta: { buildsExamples: true, requiresAttention: 'bidirectional' },
  create: (options) => new ReplacedTokenDetection(options),
});

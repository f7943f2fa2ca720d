import { objectivePlugin } from '@pretrain/core';
import { ReplacedTokenDetection } from './objective';
import { electraOptionsSchema } from './options';

export const electraPlugin = objectivePlugin(ReplacedTokenDetection, {
  name: 'electra',
  description: 'replaced-token detection (ELECTRA): a generator sharing the backbone proposes tokens, the discriminator judges every position',
  options: electraOptionsSchema,
});

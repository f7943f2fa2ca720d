import { z } from 'zod';
import type { BackbonePlugin } from './contract';
import { hfModelOptionsSchema } from './hf-config';
import { assertBackboneAttention, objectivePlugin, type ObjectiveClass } from './plugin-classes';

const optionsSchema = z.object({ build: z.boolean().default(false) }).strict();
type Options = z.infer<typeof optionsSchema>;

class Objective {
  static readonly requiresAttention = 'causal' as const;
  static readonly buildsExamples = (options: Options) => options.build;
  readonly name = 'toy';
  readonly requiresAttention = Objective.requiresAttention;
  constructor(readonly options: Options) {}
}

const backbone = (attention: 'causal' | 'bidirectional') => ({ info: { attention, modelType: 'toy' } }) as unknown as BackbonePlugin;

describe('objectivePlugin', () => {
  const plugin = objectivePlugin(Objective as unknown as ObjectiveClass<Options>, { name: 'toy', options: optionsSchema });

  it('reads the meta from the class and creates instances from the parsed options', async () => {
    expect(plugin.kind).toBe('objective');
    expect(plugin.meta!.requiresAttention).toBe('causal');
    expect(plugin.meta!.buildsExamples).toBe(Objective.buildsExamples);
    const created = (await plugin.create({ build: true }, { baseDir: '.', seed: 0 })) as unknown as Objective;
    expect(created.options).toEqual({ build: true });
  });

  it('checks a backbone against the same property', () => {
    const objective = new Objective({ build: false });
    expect(() => assertBackboneAttention(objective, backbone('causal'))).not.toThrow();
    expect(() => assertBackboneAttention(objective, backbone('bidirectional'))).toThrow('toy: needs a causal backbone, but "toy" is bidirectional');
  });
});

describe('hfModelOptionsSchema', () => {
  const configSchema = z.looseObject({ hidden_size: z.number().int().positive().default(8), num_heads: z.number().int().positive().default(2), dropout: z.number().default(0.1) });
  const schema = hfModelOptionsSchema<Record<string, unknown>>({
    configSchema,
    keys: { hiddenSize: 'hidden_size', numHeads: 'num_heads', dropout: 'dropout' },
    pretrainedOverrides: ['dropout'],
    divisible: { width: 'hiddenSize', heads: 'numHeads' },
  });
  const issues = (options: unknown) => {
    const result = schema.safeParse(options);
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('accepts either spelling and gives the camelCase one (a key spelled alike in both stays)', () => {
    expect(schema.parse({ hidden_size: 12, numHeads: 3, dropout: 0 })).toEqual({ hiddenSize: 12, numHeads: 3, dropout: 0 });
  });

  it('names both spellings when both are given, and checks values with the HF field schema', () => {
    expect(issues({ hiddenSize: 8, hidden_size: 8 })).toEqual(['hidden_size: "hiddenSize" and "hidden_size" are the same option; give only one of them']);
    expect(issues({ hidden_size: -1 })).toContain('hidden_size: Too small: expected number to be >0');
  });

  it('checks the width against the heads with the config defaults, and what may accompany pretrained', () => {
    expect(issues({ hidden_size: 9 })).toEqual(['hiddenSize: hiddenSize (9) is not a multiple of numHeads (2)']);
    expect(issues({ pretrained: 'dir', dropout: 0 })).toEqual([]);
    expect(issues({ pretrained: 'dir', num_heads: 4 })).toEqual(['num_heads: cannot be combined with "pretrained" (the checkpoint\'s config.json decides it); only dropout may be overridden']);
  });
});

import { baseArchitectureOf, objectivesArchitecture } from './architecture';
import type { BackboneInfo, ObjectiveArchitecture, ObjectivePlugin } from './contract';

const info = { modelType: 'bert', baseArchitecture: 'BertModel' } as BackboneInfo;

function objective(name: string, arch?: ObjectiveArchitecture): ObjectivePlugin {
  return { name, hfArchitecture: arch ? () => arch : undefined } as unknown as ObjectivePlugin;
}

const mlm = objective('mlm', { alone: { architecture: 'BertForMaskedLM', withoutBackbone: ['pooler.'] }, jointly: { architecture: 'BertForPreTraining', with: ['nsp'] } });
const nsp = objective('nsp', { alone: { architecture: 'BertForNextSentencePrediction' }, jointly: { architecture: 'BertForPreTraining', with: ['mlm'] } });

describe('objectivesArchitecture', () => {
  it('one objective: its class alone, with the backbone tensors that class lacks', () => {
    expect(objectivesArchitecture([mlm], info)).toEqual({ architecture: 'BertForMaskedLM', withoutBackbone: ['pooler.'], exact: true });
  });

  it('several: the class they all name jointly, when each names exactly the others (any order)', () => {
    expect(objectivesArchitecture([nsp, mlm], info)).toEqual({ architecture: 'BertForPreTraining', withoutBackbone: undefined, exact: true });
  });

  it('otherwise the bare backbone class with a note: an extra objective, a missing partner, an undeclared objective', () => {
    const sop = objective('sop');
    for (const objectives of [[mlm, nsp, sop], [mlm, sop], [sop], [objective('nsp', { jointly: { architecture: 'BertForPreTraining', with: ['mlm', 'sop'] } }), mlm]]) {
      const resolved = objectivesArchitecture(objectives, info);
      expect(resolved).toMatchObject({ architecture: 'BertModel', exact: false });
      expect(resolved.note).toContain(`objectives ${objectives.map((o) => o.name).join(' + ')}`);
      expect(resolved.withoutBackbone).toBeUndefined();
    }
  });

  it('the bare class: the backbone says it, else <ModelType>Model', () => {
    expect(baseArchitectureOf(info)).toBe('BertModel');
    expect(baseArchitectureOf({ modelType: 'llama' } as BackboneInfo)).toBe('LlamaModel');
  });
});

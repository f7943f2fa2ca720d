/**
 * Which HF class a pre-training checkpoint is: the objectives declare their heads' classes
 * (ObjectivePlugin.hfArchitecture), this combines them. A combination HF has no class for is saved
 * as the bare backbone class, marked, so that nobody mistakes it for an HF head class.
 */
import type { BackboneInfo, HfClass, ObjectivePlugin } from './contract';

export interface ResolvedArchitecture extends HfClass {
  /** False when no HF class has exactly these heads: `architecture` is then the bare backbone's class. */
  exact: boolean;
  /** Why not exact (written into config.json as `pretrain_note`). */
  note?: string;
}

/** `BertModel` for bert, `GPT2Model` for gpt2: the backbone's own word, else `<ModelType>Model`. */
export function baseArchitectureOf(info: BackboneInfo): string {
  return info.baseArchitecture ?? `${info.modelType.charAt(0).toUpperCase()}${info.modelType.slice(1)}Model`;
}

/** The HF class of a checkpoint holding this backbone and these objectives' heads. */
export function objectivesArchitecture(objectives: readonly ObjectivePlugin[], info: BackboneInfo): ResolvedArchitecture {
  const declared = objectives.map((o) => ({ name: o.name, arch: o.hfArchitecture?.(info) }));
  if (declared.length === 1 && declared[0].arch?.alone) return { ...declared[0].arch.alone, exact: true };
  if (declared.length > 1) {
    const joint = declared[0].arch?.jointly;
    const names = declared.map((d) => d.name);
    const completes = (d: (typeof declared)[number]) => {
      const j = d.arch?.jointly;
      const others = names.filter((n) => n !== d.name);
      return j !== undefined && j.architecture === joint?.architecture && sameSet(j.with, others);
    };
    if (joint && declared.every(completes)) return { architecture: joint.architecture, withoutBackbone: joint.withoutBackbone, exact: true };
  }
  const base = baseArchitectureOf(info);
  return {
    architecture: base,
    exact: false,
    note: `no HF class has exactly the heads of objectives ${declared.map((d) => d.name).join(' + ')}; HF loads this checkpoint as ${base} (the backbone) and reports the head tensors unused`,
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

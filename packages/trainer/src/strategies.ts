import type { BackbonePlugin } from '@pretrain/core';
import type { Strategy } from './options';

/** Where a parameter sits: a backbone parameter (by its unprefixed name) or a head/objective parameter. */
export interface ParameterOwner {
  /** Name inside the backbone (no base prefix), when the backbone owns it. */
  backboneName?: string;
}

/** Depth used by the strategies: 0 embeddings … numLayers + 1 above the last layer; heads are at numLayers + 1. */
export function depthOf(backbone: BackbonePlugin, owner: ParameterOwner): number {
  if (owner.backboneName === undefined) return backbone.info.numLayers + 1;
  return backbone.layerIndexOf(owner.backboneName);
}

/** Whether a parameter trains at this point of the run. */
export function isTrainable(strategy: Strategy, backbone: BackbonePlugin, owner: ParameterOwner, progress: { epoch: number; step: number }): boolean {
  switch (strategy.type) {
    case 'full':
      return true;
    case 'frozen-backbone':
      return owner.backboneName === undefined;
    case 'freeze-layers':
      return owner.backboneName === undefined || depthOf(backbone, owner) > strategy.layers;
    case 'gradual-unfreezing': {
      const stage = Math.floor((strategy.unit === 'epoch' ? progress.epoch : progress.step) / strategy.every);
      // Stage 0: the top group (depth numLayers + 1: pooler, final norm, heads); each stage adds one group below.
      return depthOf(backbone, owner) >= backbone.info.numLayers + 1 - stage;
    }
  }
}

/** Layer-wise LR decay multiplier (ELECTRA / BEiT recipe): decay^(numLayers + 1 − depth). */
export function layerwiseLrScale(decay: number | undefined, backbone: BackbonePlugin, owner: ParameterOwner): number {
  if (decay === undefined || decay === 1) return 1;
  const exponent = Math.max(0, backbone.info.numLayers + 1 - depthOf(backbone, owner));
  return Math.pow(decay, exponent);
}

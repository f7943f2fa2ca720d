/** The layer functions live in @pretrain/core (shared by the models and heads); still exported from here. */
export { FLOAT32_MIN, activate, columnSum, dense, dropout, expOfNonPositive, geluErf, geluTanh, hasPadding, layerNorm, normalValues, paddingBias, type Activation } from '@pretrain/core';
export * from './config';
export * from './model';
export { KVCache, type KVCacheShape, type HostRows } from './kv-cache';
export * from './checkpoint';
export * from './generate';
export * from './plugin';

/**
 * Learning-rate schedules with HF transformers' semantics: the multiplier for optimizer step `step`
 * (0-based: the first update uses step 0), so warmup starts at lr 0 exactly like
 * get_linear_schedule_with_warmup / get_cosine_schedule_with_warmup.
 */
export type ScheduleType = 'linear' | 'cosine' | 'constant';

export interface ScheduleOptions {
  type: ScheduleType;
  warmupSteps: number;
  /** Total optimizer steps; needed for linear and cosine decay. */
  totalSteps?: number;
  /** Cosine only: number of waves (HF default 0.5 = decay to 0 once). */
  numCycles?: number;
}

export function lrMultiplier(step: number, options: ScheduleOptions): number {
  const { type, warmupSteps } = options;
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  if (type === 'constant') return 1;
  const total = options.totalSteps;
  if (total === undefined) throw new Error(`the ${type} schedule needs the total number of steps (set trainer.maxSteps or trainer.epochs)`);
  if (type === 'linear') return Math.max(0, (total - step) / Math.max(1, total - warmupSteps));
  const progress = (step - warmupSteps) / Math.max(1, total - warmupSteps);
  const cycles = options.numCycles ?? 0.5;
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * cycles * 2 * progress)));
}

/** Warmup steps from an explicit count or a ratio of the total (HF `warmup_ratio`: ceil). */
export function resolveWarmupSteps(warmupSteps: number | undefined, warmupRatio: number | undefined, totalSteps: number | undefined): number {
  if (warmupSteps !== undefined && warmupSteps > 0) return warmupSteps;
  if (warmupRatio && warmupRatio > 0) {
    if (totalSteps === undefined) throw new Error('trainer.schedule.warmupRatio needs the total number of steps (set trainer.maxSteps or trainer.epochs)');
    return Math.ceil(totalSteps * warmupRatio);
  }
  return 0;
}

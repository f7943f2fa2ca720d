import { PretrainError } from '@pretrain/core';

/** The PretrainError `fn` throws; fails the test when it throws nothing or something else. */
export function pretrainErrorOf(fn: () => unknown): PretrainError {
  try {
    fn();
  } catch (error) {
    return asPretrainError(error);
  }
  throw new Error('expected a PretrainError');
}

/** The PretrainError `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function pretrainRejectionOf(promise: Promise<unknown>): Promise<PretrainError> {
  try {
    await promise;
  } catch (error) {
    return asPretrainError(error);
  }
  throw new Error('expected a PretrainError');
}

function asPretrainError(error: unknown): PretrainError {
  expect(error).toBeInstanceOf(PretrainError);
  return error as PretrainError;
}

import * as fs from 'fs';
import { describeFsError, inputError } from '../io/errors';
import type { PretrainError } from '@pretrain/core';
import type { LabeledSummary } from './types';

/**
 * A whole labeled file as text (these files are small): gzip is not expected here, binary files
 * are rejected, invalid UTF-8 is replaced and counted, a BOM is dropped.
 */
export function readTextFile(file: string, summary: LabeledSummary): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw describeFsError(error, file);
  }
  if (bytes.subarray(0, 8000).includes(0)) throw inputError('looks like a binary file (NUL bytes near the start), not text', file);
  const text = new TextDecoder('utf-8').decode(bytes);
  if (text.includes('\uFFFD')) {
    const decoded = countOf(text, '\uFFFD');
    const literal = countOf(bytes.toString('latin1'), '\xef\xbf\xbd');
    summary.invalidUtf8 += Math.max(0, decoded - literal);
  }
  return text;
}

function countOf(haystack: string, needle: string): number {
  let count = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) count++;
  return count;
}

/** Either throws the problem or, with skipInvalid, counts it in the summary. */
export function rejectRow(error: PretrainError, skipInvalid: boolean | undefined, summary: LabeledSummary): void {
  if (!skipInvalid) throw error;
  summary.skipped++;
  if (summary.problems.length < 100) summary.problems.push(error.message);
}

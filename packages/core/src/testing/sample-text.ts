// Splits the Gutenberg fixture into documents (letters and chapters) of sentences.
import * as fs from 'fs';
import * as path from 'path';
import type { TokenizedDocument } from '../contract';

export const SAMPLE_PATH = path.join(__dirname, '../../../../fixtures/data/objectives/frankenstein-letters-ch20.txt');

export interface SampleDocument {
  id: string;
  sentences: string[];
}

export function readSample(): string {
  return fs.readFileSync(SAMPLE_PATH, 'utf8');
}

/** One document per "Letter N" / "Chapter N"; sentences split at ., ! or ? followed by a capital or quote. */
export function sampleDocuments(text = readSample()): SampleDocument[] {
  const parts = text.split(/^(?:Letter|Chapter) \d+\s*$/m).map((p) => p.trim()).filter(Boolean);
  return parts.map((part, i) => ({
    id: `frankenstein-${i}`,
    sentences: part
      .split(/\n\s*\n/)
      .map((paragraph) => paragraph.replace(/\s+/g, ' ').trim())
      .filter(Boolean)
      .flatMap((paragraph) => paragraph.split(/(?<=[.!?][”’"]?)\s+(?=[“‘"A-Z_])/))
      .filter((s) => /[A-Za-z0-9]/.test(s)),
  }));
}

export function tokenizeDocuments(documents: SampleDocument[], ids: (text: string) => Int32Array): TokenizedDocument[] {
  return documents.map((d) => ({ id: d.id, sentences: d.sentences.map(ids).filter((s) => s.length > 0) }));
}

export async function* streamOf<T>(items: T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

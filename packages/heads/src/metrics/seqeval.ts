import { PretrainError } from '@pretrain/core/lite';

/**
 * Entity-level precision/recall/F1 for tag sequences, with seqeval's default (non-strict) mode:
 * an entity may start with I- (or continue after a type change), adjacent B- tags split entities,
 * and sentences are joined with an implicit O between them. Supports IOB1/IOB2/IOBES tag letters.
 */
export interface Entity {
  type: string;
  /** Token index of the first and last token (inclusive) in the concatenated sequence. */
  start: number;
  end: number;
}

function splitTag(tag: string): { prefix: string; type: string } {
  // seqeval: prefix = first char, type = text after the first '-', '_' when empty.
  const prefix = tag.charAt(0);
  const rest = tag.slice(1);
  const dash = rest.indexOf('-');
  const type = (dash >= 0 ? rest.slice(dash + 1) : rest) || '_';
  return { prefix, type };
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/** Entities of one or more tag sequences (seqeval get_entities). */
export function getEntities(sequences: string[] | string[][]): Entity[] {
  const flat: string[] = Array.isArray(sequences[0]) ? (sequences as string[][]).flatMap((s) => [...s, 'O']) : (sequences as string[]);
  const entities: Entity[] = [];
  let prevTag = 'O';
  let prevType = '';
  let begin = 0;
  [...flat, 'O'].forEach((chunk, i) => {
    const { prefix, type } = splitTag(chunk);
    if (endOfChunk(prevTag, prefix, prevType, type)) entities.push({ type: prevType, start: begin, end: i - 1 });
    if (startOfChunk(prevTag, prefix, prevType, type)) begin = i;
    prevTag = prefix;
    prevType = type;
  });
  return entities;
}

export interface EntityScores {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true entities. */
  support: number;
}

/** Micro-averaged entity scores plus one entry per entity type (seqeval classification_report). */
export function seqevalScores(references: string[][], predictions: string[][]): EntityScores & { perType: Record<string, EntityScores> } {
  if (references.length !== predictions.length) throw new PretrainError(`seqeval: ${predictions.length} predicted sequences but ${references.length} reference sequences`);
  references.forEach((ref, i) => {
    if (ref.length !== predictions[i].length) throw new PretrainError(`seqeval: sequence ${i} has ${predictions[i].length} predicted tags but ${ref.length} reference tags`);
  });
  const key = (e: Entity) => `${e.type}\u0000${e.start}\u0000${e.end}`;
  const trueEntities = references.length ? getEntities(references) : [];
  const predEntities = predictions.length ? getEntities(predictions) : [];
  const trueKeys = new Set(trueEntities.map(key));
  const types = new Set([...trueEntities, ...predEntities].map((e) => e.type));
  const perType: Record<string, EntityScores> = {};
  for (const type of [...types].sort()) {
    const t = trueEntities.filter((e) => e.type === type);
    const p = predEntities.filter((e) => e.type === type);
    perType[type] = scores(p.filter((e) => trueKeys.has(key(e))).length, p.length, t.length);
  }
  const correct = predEntities.filter((e) => trueKeys.has(key(e))).length;
  return { ...scores(correct, predEntities.length, trueEntities.length), perType };
}

/** Entity-level micro F1 (seqeval f1_score, default mode). */
export function entityF1(references: string[][], predictions: string[][]): number {
  return seqevalScores(references, predictions).f1;
}

function scores(correct: number, predicted: number, actual: number): EntityScores {
  const precision = predicted === 0 ? 0 : correct / predicted;
  const recall = actual === 0 ? 0 : correct / actual;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, support: actual };
}

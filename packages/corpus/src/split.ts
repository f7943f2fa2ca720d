export type Split = 'train' | 'validation';

/** FNV-1a over UTF-16 code units: a fast, stable 32-bit hash (not for security). */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // A final avalanche so ids differing only in their last characters spread over [0, 1).
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash >>> 0;
}

/**
 * Which split a document belongs to, from its id alone: adding files never moves an existing
 * document to the other split, and the split does not depend on the shuffle seed.
 */
export function splitOf(documentId: string, validationFraction: number): Split {
  if (validationFraction <= 0) return 'train';
  return hashString(documentId) / 4294967296 < validationFraction ? 'validation' : 'train';
}

export function checkValidationFraction(fraction: number): void {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`validationFraction must be in [0, 1), got ${fraction}`);
}

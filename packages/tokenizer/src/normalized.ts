/**
 * A string being normalized, with the alignment back to the text it came from.
 * `align` holds two entries per UTF-16 unit of `text`: the [start, end) range in the source
 * text (UTF-16 units). `null` means the identity alignment (the common, allocation-free case:
 * ASCII lowercasing and whitespace mapping keep every unit in place).
 */
export interface Normalized {
  text: string;
  align: Int32Array | null;
}

export function identity(text: string): Normalized {
  return { text, align: null };
}

export function alignStart(n: Normalized, unit: number): number {
  return n.align ? n.align[2 * unit] : unit;
}

export function alignEnd(n: Normalized, unit: number): number {
  return n.align ? n.align[2 * unit + 1] : unit + 1;
}

/** Source range of the normalized units [start, end); empty ranges map to an empty source range. */
export function sourceRange(n: Normalized, start: number, end: number): [number, number] {
  if (!n.align) return [start, end];
  if (end <= start) {
    const at = start < n.text.length ? n.align[2 * start] : n.align.length > 0 ? n.align[n.align.length - 1] : 0;
    return [at, at];
  }
  return [n.align[2 * start], n.align[2 * end - 1]];
}

/**
 * Rebuilds `n` code point by code point: `map` returns the replacement text for a code point
 * (`null` keeps it, '' drops it). Every produced unit is aligned to the source code point.
 */
export function mapCodePoints(n: Normalized, map: (cp: number) => string | null): Normalized {
  const { text } = n;
  const parts: string[] = [];
  const align: number[] = [];
  let changed = false;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const start = alignStart(n, i);
    const end = alignEnd(n, i + width - 1);
    const replacement = map(cp);
    const out = replacement === null ? (width === 1 ? text[i] : text.slice(i, i + 2)) : replacement;
    if (replacement !== null) changed = true;
    parts.push(out);
    for (let k = 0; k < out.length; k++) align.push(start, end);
    i += width;
  }
  if (!changed) return n;
  return { text: parts.join(''), align: Int32Array.from(align) };
}

/** Replaces units one for one (same length), keeping the alignment. */
export function withText(n: Normalized, text: string): Normalized {
  return { text, align: n.align };
}

/** Sub-range [start, end) of a normalized string, alignment included. */
export function sliceNormalized(n: Normalized, start: number, end: number): Normalized {
  if (!n.align) {
    if (start === 0) return { text: n.text.slice(0, end), align: null };
    const align = new Int32Array(2 * (end - start));
    for (let i = start; i < end; i++) {
      align[2 * (i - start)] = i;
      align[2 * (i - start) + 1] = i + 1;
    }
    return { text: n.text.slice(start, end), align };
  }
  return { text: n.text.slice(start, end), align: n.align.slice(2 * start, 2 * end) };
}

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
  let parts: string[] | null = null;
  let align: Int32Array | null = null;
  let used = 0;
  let copiedUpTo = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    const cp = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? text.codePointAt(i)! : c;
    const width = cp > 0xffff ? 2 : 1;
    const replacement = map(cp);
    if (replacement !== null && parts === null) {
      // First change: everything before it is kept unit for unit.
      parts = [];
      align = new Int32Array(2 * (text.length + 16));
      for (let k = 0; k < i; k++) {
        align[2 * k] = alignStart(n, k);
        align[2 * k + 1] = alignEnd(n, k);
      }
      used = i;
      copiedUpTo = 0;
    }
    if (parts !== null) {
      const out = replacement ?? (width === 1 ? text[i] : text.slice(i, i + 2));
      if (replacement !== null) {
        if (copiedUpTo < i) parts.push(text.slice(copiedUpTo, i));
        parts.push(out);
        copiedUpTo = i + width;
      }
      if (2 * (used + out.length) > align!.length) {
        const bigger: Int32Array = new Int32Array(2 * align!.length + 2 * out.length);
        bigger.set(align!);
        align = bigger;
      }
      const start = alignStart(n, i);
      const end = alignEnd(n, i + width - 1);
      for (let k = 0; k < out.length; k++) {
        align![2 * used] = start;
        align![2 * used + 1] = end;
        used++;
      }
    }
    i += width;
  }
  if (parts === null) return n;
  if (copiedUpTo < text.length) parts.push(text.slice(copiedUpTo));
  return { text: parts.join(''), align: align!.subarray(0, 2 * used) };
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

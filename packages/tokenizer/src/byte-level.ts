/**
 * GPT-2's byte ↔ printable-character table: every byte maps to one visible character, so BPE
 * can work on strings without ever seeing whitespace or control characters.
 */

function buildByteToChar(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

const CHAR_TO_BYTE = new Map<string, number>(BYTE_TO_CHAR.map((ch, b) => [ch, b]));

/** All 256 byte-level characters, in byte order. */
export function byteLevelAlphabet(): string[] {
  return [...BYTE_TO_CHAR];
}

// ignoreBOM: a leading U+FEFF is text the model produced (HF keeps it), not a byte-order mark to strip.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * The byte-level form of `text` and, for non-ASCII text, the UTF-16 range of `text` each byte
 * came from (null for ASCII, where byte k is unit k).
 */
export function toByteLevel(text: string): { chars: string; unitStart: Int32Array | null; unitEnd: Int32Array | null } {
  if (ASCII_ONLY.test(text)) {
    let chars = '';
    for (let i = 0; i < text.length; i++) chars += BYTE_TO_CHAR[text.charCodeAt(i)];
    return { chars, unitStart: null, unitEnd: null };
  }
  const bytes = Buffer.from(text, 'utf8');
  const unitStart = new Int32Array(bytes.length);
  const unitEnd = new Int32Array(bytes.length);
  let chars = '';
  let b = 0;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const nBytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < nBytes; k++) {
      unitStart[b + k] = i;
      unitEnd[b + k] = i + width;
      chars += BYTE_TO_CHAR[bytes[b + k]];
    }
    b += nBytes;
    i += width;
  }
  return { chars, unitStart, unitEnd };
}

/** Decodes byte-level characters back to text like HF: other characters contribute their own UTF-8 bytes; invalid UTF-8 becomes U+FFFD. */
export function fromByteLevel(chars: string): string {
  const bytes: number[] = [];
  for (const ch of chars) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b !== undefined) bytes.push(b);
    else for (const x of Buffer.from(ch, 'utf8')) bytes.push(x);
  }
  return utf8Decoder.decode(Uint8Array.from(bytes));
}

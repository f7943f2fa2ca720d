const segmenters = new Map<string, Intl.Segmenter>();

function segmenterFor(locale: string): Intl.Segmenter {
  let segmenter = segmenters.get(locale);
  if (!segmenter) {
    segmenter = new Intl.Segmenter(locale, { granularity: 'sentence' });
    segmenters.set(locale, segmenter);
  }
  return segmenter;
}

/**
 * ICU can suppress sentence breaks after abbreviations (`@ss=standard`), but Intl.Segmenter does
 * not expose that, so "Dr. Jekyll" would become two sentences. These are the common English
 * titles and abbreviations from ICU's English suppression data that are followed by a capital.
 */
const ENGLISH_SUPPRESSIONS = [
  'Mr.', 'Mrs.', 'Ms.', 'Messrs.', 'Dr.', 'Prof.', 'St.', 'Jr.', 'Sr.', 'Mt.', 'Ft.', 'Gen.', 'Col.', 'Capt.', 'Lt.', 'Sgt.', 'Cpl.',
  'Maj.', 'Adm.', 'Gov.', 'Sen.', 'Rep.', 'Rev.', 'Hon.', 'Fr.', 'Bros.', 'Co.', 'Corp.', 'Inc.', 'Ltd.', 'No.', 'Nos.', 'Vol.',
  'Fig.', 'vs.', 'e.g.', 'i.e.', 'cf.', 'Jan.', 'Feb.', 'Mar.', 'Apr.', 'Aug.', 'Sept.', 'Sep.', 'Oct.', 'Nov.', 'Dec.', 'Mme.', 'Mlle.',
];

const suppressionsByLocale = new Map<string, Set<string>>();

function suppressionsFor(locale: string): Set<string> {
  let set = suppressionsByLocale.get(locale);
  if (!set) {
    set = new Set(/^en(-|$)/i.test(locale) ? ENGLISH_SUPPRESSIONS : []);
    suppressionsByLocale.set(locale, set);
  }
  return set;
}

function endsWithPeriod(segment: string): boolean {
  let end = segment.length - 1;
  while (end >= 0 && segment.charCodeAt(end) <= 32) end--;
  return end >= 0 && segment.charCodeAt(end) === 46;
}

/** The last whitespace-separated word of a segment (without trailing spaces). */
function lastWord(segment: string): string {
  const trimmed = segment.trimEnd();
  const space = Math.max(trimmed.lastIndexOf(' '), trimmed.lastIndexOf('\u00a0'), trimmed.lastIndexOf('\t'));
  return trimmed.slice(space + 1).replace(/^[("'“‘[]+/, '');
}

/** Longest text handed to Intl.Segmenter at once (in UTF-16 units), unless no safe cut is found in it. */
export const SEGMENT_WINDOW = 1024;

/**
 * The segments Intl.Segmenter gives for `text`, found in windows of about `window` units. V8 gives
 * every segment a fresh copy of the whole input string (`input`), so one call over a paragraph of n
 * units with k sentences allocates k·n (a 1 MB paragraph took 15 s); windows keep it linear.
 *
 * The result is the same as one call over the whole text: a window starts at a boundary (UAX #29
 * rules look back no further than the previous boundary), and of its boundaries only those followed
 * by a letter inside the window are kept. The only rule that looks ahead more than one character
 * (SB8: `ATerm Close* Sp* × (¬(OLetter|Upper|Lower|ParaSep|SATerm))* Lower`) stops at the first
 * letter, so the window's end cannot change any decision up to there. A window without such a
 * boundary is doubled. Segments are walked with `containing()`: in V8 that is ~1.4× faster than
 * iterating the Segments object (no iterator result per segment).
 */
export function* sentenceSegments(text: string, locale = 'en', window = SEGMENT_WINDOW): Generator<string> {
  const segmenter = segmenterFor(locale);
  let start = 0;
  let size = window;
  while (text.length - start > size) {
    const piece = text.slice(start, start + size);
    const lastLetter = lastLetterIndex(piece);
    const segments: string[] = [];
    let kept = 0;
    let keptEnd = 0;
    const found = segmenter.segment(piece);
    for (let index = 0; index < piece.length; ) {
      const { segment } = found.containing(index)!;
      if (index > 0 && index <= lastLetter) {
        kept = segments.length;
        keptEnd = index;
      }
      segments.push(segment);
      index += segment.length;
    }
    if (kept === 0) {
      size *= 2;
      continue;
    }
    for (let i = 0; i < kept; i++) yield segments[i];
    start += keptEnd;
    size = window;
  }
  const rest = start === 0 ? text : text.slice(start);
  const found = segmenter.segment(rest);
  for (let index = 0; index < rest.length; ) {
    const { segment } = found.containing(index)!;
    yield segment;
    index += segment.length;
  }
}

const NON_ASCII_CASED_LETTER = /^[\p{Lu}\p{Ll}]$/u;

/** Index of the last cased letter (Sentence_Break Upper or Lower) in `text`, or -1. Astral letters are not looked for. */
function lastLetterIndex(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return i;
    if (c >= 0x80 && (c < 0xd800 || c > 0xdfff) && NON_ASCII_CASED_LETTER.test(text[i])) return i;
  }
  return -1;
}

/**
 * Sentences of a text by Unicode sentence boundaries (UAX #29 as ICU implements them for the
 * locale), with ICU-style suppression after English abbreviations; trimmed, empty ones dropped.
 */
export function segmentSentences(text: string, locale = 'en', into: string[] = []): string[] {
  const suppressions = suppressionsFor(locale);
  let carried = '';
  for (const segment of sentenceSegments(text, locale)) {
    const joined = carried + segment;
    if (suppressions.size > 0 && endsWithPeriod(segment) && suppressions.has(lastWord(segment))) {
      carried = joined;
      continue;
    }
    carried = '';
    const sentence = joined.trim();
    if (sentence.length > 0) into.push(sentence);
  }
  const rest = carried.trim();
  if (rest.length > 0) into.push(rest);
  return into;
}

/** Throws a RangeError for a malformed locale tag, so bad configs fail before any reading. */
export function checkLocale(locale: string): void {
  segmenterFor(locale);
}

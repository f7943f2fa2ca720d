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

/**
 * Sentences of a text by Unicode sentence boundaries (UAX #29 as ICU implements them for the
 * locale), with ICU-style suppression after English abbreviations; trimmed, empty ones dropped.
 */
export function segmentSentences(text: string, locale = 'en', into: string[] = []): string[] {
  const suppressions = suppressionsFor(locale);
  let carried = '';
  for (const { segment } of segmenterFor(locale).segment(text)) {
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

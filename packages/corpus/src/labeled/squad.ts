import { inputError } from '../io/errors';
import { readTextFile, rejectRow } from './read-text';
import { emptySummary, type LabeledDataset, type QuestionAnsweringExample } from './types';

export interface SquadReadOptions {
  skipInvalid?: boolean;
}

export interface SquadDataset extends LabeledDataset<QuestionAnsweringExample> {
  articles: number;
  paragraphs: number;
  /** Answers whose text is not at answer_start in the context (kept). Offsets are converted from SQuAD's code points to UTF-16. */
  misalignedAnswers: number;
}

/** SQuAD v1.1 JSON: one example per question, with its context and answers. Problems name the JSON path. */
export function readSquad(file: string, options: SquadReadOptions = {}): SquadDataset {
  const summary = emptySummary();
  let root: unknown;
  try {
    root = JSON.parse(readTextFile(file, summary));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw inputError(`invalid JSON (${error.message})`, file);
  }
  const data = (root as { data?: unknown })?.data;
  if (!Array.isArray(data)) throw inputError('expected a SQuAD object with a "data" array', file);
  const examples: QuestionAnsweringExample[] = [];
  let paragraphs = 0;
  let misalignedAnswers = 0;
  data.forEach((article: any, a) => {
    const title = typeof article?.title === 'string' ? article.title : '';
    if (!Array.isArray(article?.paragraphs)) return rejectRow(inputError(`data[${a}].paragraphs: expected an array`, file), options.skipInvalid, summary);
    article.paragraphs.forEach((paragraph: any, p: number) => {
      paragraphs++;
      const where = `data[${a}].paragraphs[${p}]`;
      if (typeof paragraph?.context !== 'string' || !Array.isArray(paragraph?.qas)) {
        return rejectRow(inputError(`${where}: expected "context" (string) and "qas" (array)`, file), options.skipInvalid, summary);
      }
      paragraph.qas.forEach((qa: any, q: number) => {
        summary.rows++;
        try {
          const example = questionExample(qa, paragraph.context, title, `${where}.qas[${q}]`, file);
          misalignedAnswers += example.answers.filter((ans) => paragraph.context.slice(ans.start, ans.start + ans.text.length) !== ans.text).length;
          examples.push(example);
        } catch (error) {
          rejectRow(error as never, options.skipInvalid, summary);
        }
      });
    });
  });
  summary.examples = examples.length;
  return { file, examples, summary, articles: data.length, paragraphs, misalignedAnswers };
}

function questionExample(qa: any, context: string, title: string, where: string, file: string): QuestionAnsweringExample {
  if (typeof qa?.question !== 'string') throw inputError(`${where}.question: expected a string`, file);
  if (typeof qa?.id !== 'string' && typeof qa?.id !== 'number') throw inputError(`${where}.id: expected a string`, file);
  if (!Array.isArray(qa?.answers)) throw inputError(`${where}.answers: expected an array`, file);
  const answers = qa.answers.map((answer: any, i: number) => {
    if (typeof answer?.text !== 'string') throw inputError(`${where}.answers[${i}].text: expected a string`, file);
    const start = answer?.answer_start;
    if (!Number.isInteger(start) || start < 0 || start > [...context].length) throw inputError(`${where}.answers[${i}].answer_start: expected an offset in the context, got ${JSON.stringify(start)}`, file);
    return { text: answer.text, start: utf16Offset(context, start) };
  });
  return { id: String(qa.id), title, context, question: qa.question, answers };
}

/**
 * SQuAD offsets count Unicode code points (Python string indices); JS strings index UTF-16 code
 * units, so characters outside the BMP shift every later offset by one.
 */
export function utf16Offset(text: string, codePointOffset: number): number {
  let units = 0;
  for (let points = 0; points < codePointOffset && units < text.length; points++) {
    const code = text.charCodeAt(units);
    units += code >= 0xd800 && code <= 0xdbff && units + 1 < text.length ? 2 : 1;
  }
  return units;
}

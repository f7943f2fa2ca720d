/** Label names in id order and the reverse lookup; plain data so it can go into a config.json (id2label). */
export interface LabelMap {
  names: string[];
  ids: Record<string, number>;
}

export function labelMap(names: string[]): LabelMap {
  const ids: Record<string, number> = {};
  names.forEach((name, id) => (ids[name] = id));
  return { names: [...names], ids };
}

export interface ClassificationExample {
  /** `file:line` of the row, or the dataset's own id where it has one. */
  id: string;
  text: string;
  textPair?: string;
  label: number;
  labelName: string;
}

export interface RegressionExample {
  id: string;
  text: string;
  textPair?: string;
  score: number;
}

export interface TokenTagExample {
  id: string;
  tokens: string[];
  /** Tags as written in the output scheme (IOB2 by default). */
  tags: string[];
  tagIds: number[];
  /** Index of the `-DOCSTART-` document the sentence belongs to. */
  document: number;
}

export interface QuestionAnsweringExample {
  id: string;
  title: string;
  context: string;
  question: string;
  /** Answer texts with their start offsets (UTF-16 code units) in the context. */
  answers: { text: string; start: number }[];
}

/** What a labeled reader read and what it skipped. */
export interface LabeledSummary {
  rows: number;
  examples: number;
  skipped: number;
  invalidUtf8: number;
  /** `file:line: problem` for each skipped row (first 100). */
  problems: string[];
}

export interface LabeledDataset<E> {
  file: string;
  examples: E[];
  /** Present for classification and tagging. */
  labels?: LabelMap;
  summary: LabeledSummary;
}

export function emptySummary(): LabeledSummary {
  return { rows: 0, examples: 0, skipped: 0, invalidUtf8: 0, problems: [] };
}

/**
 * The registration lists as Markdown: docs/backends.md carries them between generated-block markers,
 * and tests fail when the document and the lists differ (`npm run docs:kernels` rewrites the blocks).
 */

/** A list entry as the docs show it. */
export interface DocumentedKernel {
  kernelName: string;
  why: string;
}

/** The table of one registration list. */
export function kernelTable(kernels: readonly DocumentedKernel[]): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  return ['| kernel | why |', '|---|---|', ...kernels.map((k) => `| \`${k.kernelName}\` | ${escape(k.why)} |`)].join('\n');
}

const begin = (name: string) => `<!-- generated: ${name} (npm run docs:kernels) -->`;
const end = (name: string) => `<!-- end generated: ${name} -->`;

/** The text of block `name` in `doc`, or undefined when its markers are missing. */
export function generatedBlock(doc: string, name: string): string | undefined {
  const from = doc.indexOf(begin(name));
  const to = doc.indexOf(end(name));
  if (from < 0 || to < from) return undefined;
  return doc.slice(from + begin(name).length, to).trim();
}

/** `doc` with block `name` replaced by `content` (the markers must exist). */
export function withGeneratedBlock(doc: string, name: string, content: string): string {
  const from = doc.indexOf(begin(name));
  const to = doc.indexOf(end(name));
  if (from < 0 || to < from) throw new Error(`docs: no generated block "${name}" (add the markers ${begin(name)} … ${end(name)})`);
  return `${doc.slice(0, from + begin(name).length)}\n${content}\n${doc.slice(to)}`;
}

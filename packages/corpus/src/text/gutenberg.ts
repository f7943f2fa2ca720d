/**
 * Removes Project Gutenberg boilerplate from a stream of lines: everything up to and including
 * the `*** START OF ... PROJECT GUTENBERG ...` marker, and everything from the `*** END OF ...`
 * marker on (the license). Lines are held back only while the header may still be coming (the
 * first `headerSearchLines` lines), so memory stays bounded; a file without a start marker is
 * passed through unchanged.
 */
/** How many lines from the top of a file may precede the start marker. */
export const GUTENBERG_HEADER_LINES = 1000;

export class GutenbergStripper {
  private held: string[] = [];
  private heldLineNumbers: number[] = [];
  private state: 'searching' | 'body' | 'footer' = 'searching';
  private linesSeen = 0;
  /** True once a header or footer was actually removed. */
  stripped = false;

  /** `afterHeader`: the stripper starts past the header window (reading a file range that begins after it). */
  constructor(private readonly headerSearchLines = GUTENBERG_HEADER_LINES, afterHeader = false) {
    if (afterHeader) this.state = 'body';
  }

  /** True once the end marker was seen: nothing after it is text. */
  get inFooter(): boolean {
    return this.state === 'footer';
  }

  /** Lines ready to pass on after this one (possibly none, possibly several held ones). */
  push(line: string, lineNumber: number, out: { lines: string[]; lineNumbers: number[] }): void {
    if (this.state === 'footer') return;
    if (isEndMarker(line)) {
      this.flushHeld(out);
      this.state = 'footer';
      this.stripped = true;
      return;
    }
    if (this.state === 'body') {
      out.lines.push(line);
      out.lineNumbers.push(lineNumber);
      return;
    }
    this.linesSeen++;
    if (isStartMarker(line)) {
      this.held = [];
      this.heldLineNumbers = [];
      this.state = 'body';
      this.stripped = true;
      return;
    }
    this.held.push(line);
    this.heldLineNumbers.push(lineNumber);
    if (this.linesSeen >= this.headerSearchLines) {
      this.flushHeld(out);
      this.state = 'body';
    }
  }

  /** At end of file: lines still held (a short file without a start marker). */
  end(out: { lines: string[]; lineNumbers: number[] }): void {
    this.flushHeld(out);
  }

  private flushHeld(out: { lines: string[]; lineNumbers: number[] }): void {
    for (let i = 0; i < this.held.length; i++) {
      out.lines.push(this.held[i]);
      out.lineNumbers.push(this.heldLineNumbers[i]);
    }
    this.held = [];
    this.heldLineNumbers = [];
  }
}

const START_MARKER = /^\W*\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG/i;
const OLD_START_MARKER = /^\W*\*END\*\s*THE SMALL PRINT/i;
const END_MARKER = /^\W*\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG/i;
const OLD_END_MARKER = /^\s*End of (the )?Project Gutenberg('s)? /i;

export function isStartMarker(line: string): boolean {
  return START_MARKER.test(line) || OLD_START_MARKER.test(line);
}

export function isEndMarker(line: string): boolean {
  return END_MARKER.test(line) || OLD_END_MARKER.test(line);
}

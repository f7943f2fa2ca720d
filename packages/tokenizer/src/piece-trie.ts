/**
 * A trie over the UTF-16 code units of a vocabulary, for WordPiece's greedy longest match: one
 * forward walk over the word's char codes finds the longest vocabulary piece at a position,
 * without building a substring per candidate. Edges live in one open-addressing hash table keyed
 * by (node, char code), so a vocabulary of 30k pieces costs a few typed arrays, not 100k Maps.
 */

const NO_NODE = -1;

export class PieceTrie {
  readonly root = 0;
  /** Vocabulary id of the piece that ends at each node, or -1. */
  private readonly nodeIds: Int32Array;
  /** Length in code units of the path from the root to each node. */
  private readonly nodeDepths: Int32Array;
  private readonly edgeParents: Int32Array;
  private readonly edgeCodes: Int32Array;
  private readonly edgeChildren: Int32Array;
  private readonly mask: number;

  constructor(vocab: Map<string, number>) {
    let units = 0;
    for (const piece of vocab.keys()) units += piece.length;
    // At most one node per code unit of the vocabulary; the edge table stays at most half full.
    this.nodeIds = new Int32Array(units + 1).fill(NO_NODE);
    this.nodeDepths = new Int32Array(units + 1);
    let capacity = 16;
    while (capacity < units * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.edgeParents = new Int32Array(capacity).fill(NO_NODE);
    this.edgeCodes = new Int32Array(capacity);
    this.edgeChildren = new Int32Array(capacity);
    let nodes = 1;
    for (const [piece, id] of vocab) {
      let node = this.root;
      for (let i = 0; i < piece.length; i++) {
        let child = this.child(node, piece.charCodeAt(i));
        if (child === NO_NODE) {
          child = nodes++;
          this.nodeDepths[child] = i + 1;
          this.insertEdge(node, piece.charCodeAt(i), child);
        }
        node = child;
      }
      this.nodeIds[node] = id;
    }
  }

  /** The node reached from `node` along char code `code`, or -1. */
  child(node: number, code: number): number {
    for (let slot = slotOf(node, code) & this.mask; ; slot = (slot + 1) & this.mask) {
      const parent = this.edgeParents[slot];
      if (parent === NO_NODE) return NO_NODE;
      if (parent === node && this.edgeCodes[slot] === code) return this.edgeChildren[slot];
    }
  }

  /** The node reached from the root along all of `text`, or -1. */
  walk(text: string): number {
    let node = this.root;
    for (let i = 0; i < text.length && node !== NO_NODE; i++) node = this.child(node, text.charCodeAt(i));
    return node;
  }

  /** The vocabulary id of the piece ending at `node`, or -1 when no piece ends there. */
  pieceId(node: number): number {
    return this.nodeIds[node];
  }

  /** Length in code units of the piece (or piece prefix) that ends at `node`. */
  depth(node: number): number {
    return this.nodeDepths[node];
  }

  private insertEdge(parent: number, code: number, child: number): void {
    let slot = slotOf(parent, code) & this.mask;
    while (this.edgeParents[slot] !== NO_NODE) slot = (slot + 1) & this.mask;
    this.edgeParents[slot] = parent;
    this.edgeCodes[slot] = code;
    this.edgeChildren[slot] = child;
  }
}

function slotOf(node: number, code: number): number {
  const h = Math.imul(node, 0x9e3779b1) ^ Math.imul(code, 0x85ebca6b);
  return (h ^ (h >>> 15)) >>> 0;
}

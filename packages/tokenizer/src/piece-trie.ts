/**
 * A trie over the UTF-16 code units of a vocabulary, for WordPiece's greedy longest match: one
 * forward walk over the word's char codes finds the longest vocabulary piece at a position,
 * without building a substring per candidate. Edges live in one open-addressing hash table keyed
 * by (node, char code), so a vocabulary of 30k pieces costs three typed arrays, not 65k Maps.
 */

const NO_NODE = -1;
/** An edge is three consecutive ints: parent node (-1 in a free slot), char code, child node. */
const EDGE_INTS = 3;

export class PieceTrie {
  readonly root = 0;
  /** Vocabulary id of the piece that ends at each node, or -1. */
  private readonly nodeIds: Int32Array;
  /** Length in code units of the path from the root to each node. */
  private readonly nodeDepths: Int32Array;
  private edges: Int32Array;
  private mask: number;
  private edgeCount = 0;

  constructor(vocab: Map<string, number>) {
    let units = 0;
    for (const piece of vocab.keys()) units += piece.length;
    // At most one node per code unit of the vocabulary (bert-base: 198k units, 65k nodes).
    this.nodeIds = new Int32Array(units + 1).fill(NO_NODE);
    this.nodeDepths = new Int32Array(units + 1);
    this.mask = tableSize(vocab.size * 2) - 1;
    this.edges = new Int32Array((this.mask + 1) * EDGE_INTS).fill(NO_NODE);
    for (const [piece, id] of vocab) {
      let node = this.root;
      for (let i = 0; i < piece.length; i++) {
        let child = this.child(node, piece.charCodeAt(i));
        if (child === NO_NODE) {
          child = this.edgeCount + 1;
          this.nodeDepths[child] = i + 1;
          this.addEdge(node, piece.charCodeAt(i), child);
        }
        node = child;
      }
      this.nodeIds[node] = id;
    }
  }

  /** The node reached from `node` along char code `code`, or -1. */
  child(node: number, code: number): number {
    const edges = this.edges;
    for (let slot = slotOf(node, code) & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = slot * EDGE_INTS;
      const parent = edges[at];
      if (parent === NO_NODE) return NO_NODE;
      if (parent === node && edges[at + 1] === code) return edges[at + 2];
    }
  }

  /** The node reached from the root along all of `text`, or -1. */
  walk(text: string): number {
    let node = this.root;
    for (let i = 0; i < text.length && node !== NO_NODE; i++) node = this.child(node, text.charCodeAt(i));
    return node;
  }

  /** Nodes are numbered 0 (the root) to nodeCount - 1. */
  get nodeCount(): number {
    return this.edgeCount + 1;
  }

  /** The vocabulary id of the piece ending at `node`, or -1 when no piece ends there. */
  pieceId(node: number): number {
    return this.nodeIds[node];
  }

  /** Length in code units of the piece (or piece prefix) that ends at `node`. */
  depth(node: number): number {
    return this.nodeDepths[node];
  }

  /** Keeps the table at most half full, so probes stay short. */
  private addEdge(parent: number, code: number, child: number): void {
    if (++this.edgeCount * 2 > this.mask + 1) this.grow();
    this.place(this.edges, this.mask, parent, code, child);
  }

  private grow(): void {
    const old = this.edges;
    this.mask = this.mask * 2 + 1;
    this.edges = new Int32Array((this.mask + 1) * EDGE_INTS).fill(NO_NODE);
    for (let at = 0; at < old.length; at += EDGE_INTS) if (old[at] !== NO_NODE) this.place(this.edges, this.mask, old[at], old[at + 1], old[at + 2]);
  }

  private place(edges: Int32Array, mask: number, parent: number, code: number, child: number): void {
    let slot = slotOf(parent, code) & mask;
    while (edges[slot * EDGE_INTS] !== NO_NODE) slot = (slot + 1) & mask;
    const at = slot * EDGE_INTS;
    edges[at] = parent;
    edges[at + 1] = code;
    edges[at + 2] = child;
  }
}

function tableSize(atLeast: number): number {
  let size = 16;
  while (size < atLeast) size *= 2;
  return size;
}

function slotOf(node: number, code: number): number {
  const h = Math.imul(node, 0x9e3779b1) ^ Math.imul(code, 0x85ebca6b);
  return (h ^ (h >>> 15)) >>> 0;
}

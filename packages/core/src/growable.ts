type IntArray = Int32Array | Uint32Array;
type IntArrayKind<T extends IntArray> = { new (length: number): T };

/**
 * An append-only Int32Array or Uint32Array that doubles its capacity as needed: token ids and
 * counts collected without a JS array per sentence (tokenizers and the corpus token cache).
 */
export class GrowableIntArray<T extends IntArray = Int32Array> {
  private data: T;
  private size = 0;

  constructor(
    private readonly kind: IntArrayKind<T> = Int32Array as unknown as IntArrayKind<T>,
    initialCapacity = 64,
  ) {
    this.data = new kind(Math.max(1, initialCapacity));
  }

  get length(): number {
    return this.size;
  }

  push(value: number): void {
    if (this.size === this.data.length) this.grow(this.size + 1);
    this.data[this.size++] = value;
  }

  pushAll(values: ArrayLike<number>): void {
    if (this.size + values.length > this.data.length) this.grow(this.size + values.length);
    for (let i = 0; i < values.length; i++) this.data[this.size + i] = values[i];
    this.size += values.length;
  }

  /** Forgets the values and keeps the capacity (a scratch buffer reused call after call). */
  clear(): void {
    this.size = 0;
  }

  /** An exactly-sized copy: its buffer can be transferred to another thread. */
  toArray(): T {
    return this.data.slice(0, this.size) as T;
  }

  private grow(needed: number): void {
    let capacity = this.data.length * 2;
    while (capacity < needed) capacity *= 2;
    const bigger = new this.kind(capacity);
    bigger.set(this.data.subarray(0, this.size));
    this.data = bigger;
  }
}

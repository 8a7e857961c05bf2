/**
 * The open-addressing hash tables behind TupleIndex (tuple-index.ts is the public face).
 *
 * Why not Map: a connection key is 96 bits (IPv4) or 288 bits (IPv6) plus the VLAN stack, more
 * than one JS number holds, so a Map needs either a string key (built per lookup: slow, garbage)
 * or nested maps (one Map object per remote endpoint: hundreds of bytes each). Here every key is a
 * row of 32-bit words in ONE Int32Array, probed linearly from a seeded multiply-xorshift hash, with
 * the values in a parallel array. A lookup reads numbers and allocates nothing. Removal uses
 * backward-shift deletion (no tombstones), so a table that churns through millions of
 * connections never degrades. Row layout: word 0 is the hash (0 marks an empty row), then the key.
 *
 * Linux does the same job with inet_ehashfn (jhash with a boot-time secret) over a chained table;
 * the seed plays the secret's part against crafted collisions (the hash is not a keyed PRF, so
 * this is a speed bump, not a guarantee; the seed comes from the Host's injected random source).
 */

// Each key word times its own odd constant (a bijection of the word), the products XORed with the
// seed: independent multiplications, so the CPU does them side by side (murmur3's chained mixing cost
// four times as long, and a lookup computes a hash for every frame). Then lowbias32's finalizer
// (xorshift-multiply, twice) brings every input bit down to the low bits the row index is taken from.
const K0 = 0x9e3779b1;
const K1 = 0x85ebca77;
const K2 = 0xc2b2ae3d;
const K3 = 0x27d4eb2f;
const K4 = 0x165667b1;
const K5 = 0xd3a2646d;
const K6 = 0xfd7046c5;
const K7 = 0xb55a4f09;
const K8 = 0x7feb352d;
const K9 = 0x846ca68b;

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  // 0 marks an empty row; fold it onto 1 (costs one value of 2^32). An int32: a small integer to V8.
  return h === 0 ? 1 : h;
}

export function hashV4Key(seed: number, local: number, remote: number, ports: number, vlan: number): number {
  return finish(seed ^ Math.imul(local, K0) ^ Math.imul(remote, K1) ^ Math.imul(ports, K2) ^ Math.imul(vlan, K3));
}

export function hashV6Key(
  seed: number,
  l0: number, l1: number, l2: number, l3: number,
  r0: number, r1: number, r2: number, r3: number,
  ports: number, vlan: number,
): number {
  const l = Math.imul(l0, K4) ^ Math.imul(l1, K5) ^ Math.imul(l2, K6) ^ Math.imul(l3, K0);
  const r = Math.imul(r0, K7) ^ Math.imul(r1, K8) ^ Math.imul(r2, K9) ^ Math.imul(r3, K1);
  return finish(seed ^ l ^ r ^ Math.imul(ports, K2) ^ Math.imul(vlan, K3));
}

const MIN_CAPACITY = 16;

function capacityFor(n: number): number {
  let cap = MIN_CAPACITY;
  while (cap - (cap >> 2) <= n) cap *= 2; // keep the load at most 3/4
  return cap;
}

/**
 * Rows of `stride` words (hash + key) with a value per row. Subclasses add the key comparison;
 * growth, shrinking and backward-shift deletion live here and only move whole rows.
 */
abstract class RowTable<C> {
  /** Int32 words (addresses and port pairs as their 32 bits): small integers to V8, never boxed. */
  protected keys: Int32Array;
  protected vals: Array<C | undefined>;
  protected mask: number;
  private count = 0;
  private readonly minCap: number;

  constructor(
    protected readonly stride: number,
    initialCapacity: number,
  ) {
    const cap = capacityFor(Math.max(0, initialCapacity));
    this.minCap = cap;
    this.keys = new Int32Array(cap * stride);
    this.vals = new Array<C | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** Bytes held by the table itself (keys + value slots at 8 bytes each), not the values' objects. */
  get bytes(): number {
    return this.keys.byteLength + 8 * this.vals.length;
  }

  valueAt(row: number): C | undefined {
    return this.vals[row];
  }

  /** Claim an empty row found by a failed probe (the caller writes the key words after the hash). */
  protected claim(row: number, hash: number, value: C): number {
    this.keys[row * this.stride] = hash;
    this.vals[row] = value;
    this.count++;
    if (this.count > this.mask + 1 - ((this.mask + 1) >> 2)) {
      return this.resize((this.mask + 1) * 2, row);
    }
    return row;
  }

  setValueAt(row: number, value: C): C | undefined {
    const old = this.vals[row];
    this.vals[row] = value;
    return old;
  }

  /** Backward-shift deletion: pull later rows of the same probe run into the hole. */
  removeAt(row: number): C | undefined {
    const keys = this.keys;
    const mask = this.mask;
    const s = this.stride;
    const old = this.vals[row];
    let hole = row;
    let j = (row + 1) & mask;
    for (;;) {
      const h = keys[j * s] as number;
      if (h === 0) break;
      const home = h & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys.copyWithin(hole * s, j * s, j * s + s);
        this.vals[hole] = this.vals[j];
        hole = j;
      }
      j = (j + 1) & mask;
    }
    keys[hole * s] = 0;
    this.vals[hole] = undefined;
    this.count--;
    if (this.count < (this.mask + 1) >> 3 && this.mask + 1 > this.minCap) this.resize((this.mask + 1) >> 1, -1);
    return old;
  }

  clear(): void {
    this.keys = new Int32Array(this.minCap * this.stride);
    this.vals = new Array<C | undefined>(this.minCap).fill(undefined);
    this.mask = this.minCap - 1;
    this.count = 0;
  }

  /** Occupied rows, for iteration (not for the hot path). */
  *rows(): IterableIterator<number> {
    const s = this.stride;
    for (let row = 0; row <= this.mask; row++) if (this.keys[row * s] !== 0) yield row;
  }

  /** Key word `i` of a row, as the uint32 it was given as. */
  keyWord(row: number, i: number): number {
    return (this.keys[row * this.stride + 1 + i] as number) >>> 0;
  }

  /** Rehash into `cap` rows; returns where row `track` went (or -1). */
  private resize(cap: number, track: number): number {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const s = this.stride;
    const oldCap = this.mask + 1;
    this.keys = new Int32Array(cap * s);
    this.vals = new Array<C | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
    let moved = -1;
    for (let row = 0; row < oldCap; row++) {
      const h = oldKeys[row * s] as number;
      if (h === 0) continue;
      let i = h & this.mask;
      while (this.keys[i * s] !== 0) i = (i + 1) & this.mask;
      // Word by word: a subarray per row would be an object per row.
      for (let k = 0; k < s; k++) this.keys[i * s + k] = oldKeys[row * s + k] as number;
      this.vals[i] = oldVals[row];
      if (row === track) moved = i;
    }
    return moved;
  }
}

/** IPv4 rows: hash, local address, remote address, ports (local << 16 | remote), VLAN key. */
export class V4Table<C> extends RowTable<C> {
  constructor(initialCapacity: number) {
    super(5, initialCapacity);
  }

  /** Row holding the key, or -1. Words may come as uint32 or int32 (compared as their 32 bits). */
  find(h: number, local: number, remote: number, ports: number, vlan: number): number {
    const keys = this.keys;
    const mask = this.mask;
    h |= 0;
    local |= 0;
    remote |= 0;
    ports |= 0;
    vlan |= 0;
    let i = h & mask;
    for (;;) {
      const b = i * 5;
      const kh = keys[b] as number;
      if (kh === 0) return -1;
      if (kh === h && keys[b + 1] === local && keys[b + 2] === remote && keys[b + 3] === ports && keys[b + 4] === vlan) return i;
      i = (i + 1) & mask;
    }
  }

  /** Insert a key known to be absent; returns its row. */
  add(h: number, local: number, remote: number, ports: number, vlan: number, value: C): number {
    const keys = this.keys;
    const mask = this.mask;
    let i = h & mask;
    while (keys[i * 5] !== 0) i = (i + 1) & mask;
    const b = i * 5;
    keys[b + 1] = local;
    keys[b + 2] = remote;
    keys[b + 3] = ports;
    keys[b + 4] = vlan;
    return this.claim(i, h, value);
  }
}

/** IPv6 rows: hash, local address (4 words), remote address (4 words), ports, VLAN key. */
export class V6Table<C> extends RowTable<C> {
  constructor(initialCapacity: number) {
    super(11, initialCapacity);
  }

  find(
    h: number,
    l0: number, l1: number, l2: number, l3: number,
    r0: number, r1: number, r2: number, r3: number,
    ports: number, vlan: number,
  ): number {
    const keys = this.keys;
    const mask = this.mask;
    h |= 0;
    l0 |= 0;
    l1 |= 0;
    l2 |= 0;
    l3 |= 0;
    r0 |= 0;
    r1 |= 0;
    r2 |= 0;
    r3 |= 0;
    ports |= 0;
    vlan |= 0;
    let i = h & mask;
    for (;;) {
      const b = i * 11;
      const kh = keys[b] as number;
      if (kh === 0) return -1;
      if (
        kh === h &&
        keys[b + 4] === l3 && keys[b + 8] === r3 && keys[b + 9] === ports &&
        keys[b + 1] === l0 && keys[b + 2] === l1 && keys[b + 3] === l2 &&
        keys[b + 5] === r0 && keys[b + 6] === r1 && keys[b + 7] === r2 && keys[b + 10] === vlan
      ) {
        return i;
      }
      i = (i + 1) & mask;
    }
  }

  add(
    h: number,
    l0: number, l1: number, l2: number, l3: number,
    r0: number, r1: number, r2: number, r3: number,
    ports: number, vlan: number, value: C,
  ): number {
    const keys = this.keys;
    const mask = this.mask;
    let i = h & mask;
    while (keys[i * 11] !== 0) i = (i + 1) & mask;
    const b = i * 11;
    keys[b + 1] = l0;
    keys[b + 2] = l1;
    keys[b + 3] = l2;
    keys[b + 4] = l3;
    keys[b + 5] = r0;
    keys[b + 6] = r1;
    keys[b + 7] = r2;
    keys[b + 8] = r3;
    keys[b + 9] = ports;
    keys[b + 10] = vlan;
    return this.claim(i, h, value);
  }
}

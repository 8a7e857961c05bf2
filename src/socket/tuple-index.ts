/**
 * The 4-tuple index ("established hash", Linux's ehash): every connection that has a remote end -
 * ESTABLISHED and later states, SYN-RECEIVED children, SYN-SENT, TIME-WAIT - keyed by
 * (local address, local port, remote address, remote port, VLAN key). It is demux step one
 * (DESIGN.md decision 4) and the uniqueness test behind connect()'s port choice.
 *
 * Two sides:
 * - the frame side looks up with numbers a view can read without allocating: `lookupV4(localAddr,
 *   localPort, remoteAddr, remotePort, vlanKey)` with addresses as big-endian u32 (what
 *   `DataView.getUint32` gives), `lookupV4Bytes`/`lookupV6` straight from the IP header bytes;
 * - the API side hashes and unhashes with a text record `{ localAddress, localPort, remoteAddress,
 *   remotePort, vlan }`.
 *
 * A connection whose two addresses are IPv4 or v4-mapped IPv6 lives in the IPv4 table, as Linux's
 * sk_ehashfn puts an AF_INET6 socket talking to a v4-mapped peer in the IPv4 hash: an IPv4 frame
 * finds it. The VLAN key makes the same 4-tuple on two VLANs two connections.
 */
import type { Bytes } from '../wire/bytes.js';
import { ipKeyOrThrow, ipv4Text, ipv6Text, isV4Like, type IpKey } from './ip.js';
import { hashV4Key, hashV6Key, V4Table, V6Table } from './tuple-table.js';

/** A connection's key in text form (the API side). `vlan` is a VLAN key from vlanKeyOf; default 0 (untagged). */
export interface TupleRecord {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  vlan?: number;
}

export interface TupleIndexOptions {
  /** Hash seed; give it a value from the Host's random source. Default 0 (deterministic tests). */
  seed?: number;
  /** Entries to hold before the first resize. */
  initialCapacity?: number;
}

/** Keys of one- and two-tag stacks stay below 4097 * 4097 + 1; deeper stacks hash above 2^25. */
const DEEP_VLAN_BASE = 0x02000000;

/**
 * The VLAN key of a tag stack (outermost first, VLAN IDs 0..4095; PCP and DEI are not part of the
 * key): 0 untagged, vid + 1 for one tag (1..4096), 4098 + outer * 4097 + inner for two (802.1ad
 * QinQ; 4098..16785408), so these never collide. Three or more tags hash into [2^25, 2^32); two such stacks could share a key,
 * which is as rare as a 32-bit hash collision and only merges connections on those exotic links.
 */
export function vlanKeyOf(ids: ArrayLike<number>): number {
  const n = ids.length;
  if (n === 0) return 0;
  if (n === 1) return ((ids[0] as number) & 0xfff) + 1;
  if (n === 2) return ((ids[0] as number) & 0xfff) * 4097 + ((ids[1] as number) & 0xfff) + 4098;
  let h = 0x5bd1e995;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ (((ids[i] as number) & 0xfff) + 1), 0x9e3779b1) ^ (h >>> 15);
  return DEEP_VLAN_BASE + ((h >>> 0) % (0x100000000 - DEEP_VLAN_BASE));
}

/** Both ports in 32 bits (an int32: never boxed): local in the high half, as Linux's INET_COMBINED_PORTS packs them. */
function portPair(localPort: number, remotePort: number): number {
  return ((localPort & 0xffff) << 16) | (remotePort & 0xffff);
}

function checkPort(p: number, what: string): void {
  if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw new RangeError(`${what}: not a port: ${p}`);
}

function checkVlan(v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`not a VLAN key: ${v}`);
}

export class TupleIndex<C> {
  private readonly v4: V4Table<C>;
  private readonly v6: V6Table<C>;
  private readonly seed: number;

  constructor(options: TupleIndexOptions = {}) {
    this.seed = (options.seed ?? 0) | 0;
    this.v4 = new V4Table<C>(options.initialCapacity ?? 0);
    this.v6 = new V6Table<C>(0);
  }

  get size(): number {
    return this.v4.size + this.v6.size;
  }

  /** Bytes held by the tables (not by the connection objects they point to). */
  get tableBytes(): number {
    return this.v4.bytes + this.v6.bytes;
  }

  // ---- frame side: numbers in, no allocation ----

  /** Addresses as big-endian u32 (getUint32 of the IPv4 header), ports as numbers, VLAN key (0 untagged). */
  lookupV4(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, vlan = 0): C | undefined {
    const ports = portPair(localPort, remotePort);
    const h = hashV4Key(this.seed, localAddr, remoteAddr, ports, vlan);
    const row = this.v4.find(h, localAddr, remoteAddr, ports, vlan);
    return row < 0 ? undefined : this.v4.valueAt(row);
  }

  /** lookupV4 reading both addresses from bytes (e.g. the IPv4 header: local = destination). */
  lookupV4Bytes(b: Bytes, localAddrOff: number, localPort: number, remoteAddrOff: number, remotePort: number, vlan = 0): C | undefined {
    return this.lookupV4(b.dv.getInt32(localAddrOff), localPort, b.dv.getInt32(remoteAddrOff), remotePort, vlan);
  }

  /** IPv6 addresses read as four big-endian words each from b at the given offsets (the IPv6 header). */
  lookupV6(b: Bytes, localAddrOff: number, localPort: number, remoteAddrOff: number, remotePort: number, vlan = 0): C | undefined {
    const dv = b.dv;
    return this.lookupV6Words(
      dv.getInt32(localAddrOff), dv.getInt32(localAddrOff + 4), dv.getInt32(localAddrOff + 8), dv.getInt32(localAddrOff + 12),
      localPort,
      dv.getInt32(remoteAddrOff), dv.getInt32(remoteAddrOff + 4), dv.getInt32(remoteAddrOff + 8), dv.getInt32(remoteAddrOff + 12),
      remotePort,
      vlan,
    );
  }

  lookupV6Words(
    l0: number, l1: number, l2: number, l3: number, localPort: number,
    r0: number, r1: number, r2: number, r3: number, remotePort: number,
    vlan = 0,
  ): C | undefined {
    const ports = portPair(localPort, remotePort);
    const h = hashV6Key(this.seed, l0, l1, l2, l3, r0, r1, r2, r3, ports, vlan);
    const row = this.v6.find(h, l0, l1, l2, l3, r0, r1, r2, r3, ports, vlan);
    return row < 0 ? undefined : this.v6.valueAt(row);
  }

  /** Insert under numeric IPv4 keys; false (and nothing changed) when the tuple is already taken. */
  hashV4(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, vlan: number, conn: C): boolean {
    const ports = portPair(localPort, remotePort);
    const h = hashV4Key(this.seed, localAddr, remoteAddr, ports, vlan);
    if (this.v4.find(h, localAddr, remoteAddr, ports, vlan) >= 0) return false;
    this.v4.add(h, localAddr, remoteAddr, ports, vlan, conn);
    return true;
  }

  /** Remove under numeric IPv4 keys; with `conn`, only if the tuple still maps to that connection. */
  unhashV4(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, vlan: number, conn?: C): C | undefined {
    const ports = portPair(localPort, remotePort);
    const h = hashV4Key(this.seed, localAddr, remoteAddr, ports, vlan);
    const row = this.v4.find(h, localAddr, remoteAddr, ports, vlan);
    if (row < 0 || (conn !== undefined && this.v4.valueAt(row) !== conn)) return undefined;
    return this.v4.removeAt(row);
  }

  /** Insert under numeric IPv6 keys (four big-endian words per address); false when the tuple is taken. */
  hashV6Words(
    l0: number, l1: number, l2: number, l3: number, localPort: number,
    r0: number, r1: number, r2: number, r3: number, remotePort: number,
    vlan: number, conn: C,
  ): boolean {
    const ports = portPair(localPort, remotePort);
    const h = hashV6Key(this.seed, l0, l1, l2, l3, r0, r1, r2, r3, ports, vlan);
    if (this.v6.find(h, l0, l1, l2, l3, r0, r1, r2, r3, ports, vlan) >= 0) return false;
    this.v6.add(h, l0, l1, l2, l3, r0, r1, r2, r3, ports, vlan, conn);
    return true;
  }

  /** Remove under numeric IPv6 keys; with `conn`, only if the tuple still maps to that connection. */
  unhashV6Words(
    l0: number, l1: number, l2: number, l3: number, localPort: number,
    r0: number, r1: number, r2: number, r3: number, remotePort: number,
    vlan: number, conn?: C,
  ): C | undefined {
    const ports = portPair(localPort, remotePort);
    const h = hashV6Key(this.seed, l0, l1, l2, l3, r0, r1, r2, r3, ports, vlan);
    const row = this.v6.find(h, l0, l1, l2, l3, r0, r1, r2, r3, ports, vlan);
    if (row < 0 || (conn !== undefined && this.v6.valueAt(row) !== conn)) return undefined;
    return this.v6.removeAt(row);
  }

  // ---- keys already parsed (ports.ts probes many local ports for one address pair) ----

  lookupKeys(local: IpKey, localPort: number, remote: IpKey, remotePort: number, vlan = 0): C | undefined {
    if (isV4Like(remote)) return this.lookupV4(local.w3, localPort, remote.w3, remotePort, vlan);
    return this.lookupV6Words(local.w0, local.w1, local.w2, local.w3, localPort, remote.w0, remote.w1, remote.w2, remote.w3, remotePort, vlan);
  }

  /** Insert (`mode` 'add': only if absent, returns whether it did) or upsert ('set': returns the previous value). */
  private put(t: TupleRecord, conn: C, mode: 'add' | 'set'): { added: boolean; old: C | undefined } {
    const k = this.keysOf(t);
    const vlan = t.vlan ?? 0;
    const ports = portPair(t.localPort, t.remotePort);
    if (k.v4) {
      const l = k.local.w3;
      const r = k.remote.w3;
      const h = hashV4Key(this.seed, l, r, ports, vlan);
      const row = this.v4.find(h, l, r, ports, vlan);
      if (row >= 0) return mode === 'add' ? { added: false, old: this.v4.valueAt(row) } : { added: false, old: this.v4.setValueAt(row, conn) };
      this.v4.add(h, l, r, ports, vlan, conn);
      return { added: true, old: undefined };
    }
    const { local: a, remote: z } = k;
    const h = hashV6Key(this.seed, a.w0, a.w1, a.w2, a.w3, z.w0, z.w1, z.w2, z.w3, ports, vlan);
    const row = this.v6.find(h, a.w0, a.w1, a.w2, a.w3, z.w0, z.w1, z.w2, z.w3, ports, vlan);
    if (row >= 0) return mode === 'add' ? { added: false, old: this.v6.valueAt(row) } : { added: false, old: this.v6.setValueAt(row, conn) };
    this.v6.add(h, a.w0, a.w1, a.w2, a.w3, z.w0, z.w1, z.w2, z.w3, ports, vlan, conn);
    return { added: true, old: undefined };
  }

  // ---- API side: text records ----

  /** Linux __inet_lookup_established, by record. */
  lookupEstablished(t: TupleRecord): C | undefined {
    const k = this.keysOf(t);
    return this.lookupKeys(k.local, t.localPort, k.remote, t.remotePort, t.vlan ?? 0);
  }

  /** Linux inet_ehash_insert without an old socket: false when the tuple is already in use. */
  hash(t: TupleRecord, conn: C): boolean {
    return this.put(t, conn, 'add').added;
  }

  /**
   * Insert or overwrite, returning what was there: the TIME-WAIT socket a new connection replaces
   * (inet_ehash_insert with an `osk`, or __inet_check_established recycling a TIME-WAIT tuple).
   */
  replace(t: TupleRecord, conn: C): C | undefined {
    return this.put(t, conn, 'set').old;
  }

  /** Linux inet_unhash: remove the tuple; with `conn`, only if it still maps to that connection. */
  unhash(t: TupleRecord, conn?: C): C | undefined {
    const k = this.keysOf(t);
    const vlan = t.vlan ?? 0;
    if (k.v4) return this.unhashV4(k.local.w3, t.localPort, k.remote.w3, t.remotePort, vlan, conn);
    const { local: a, remote: z } = k;
    return this.unhashV6Words(a.w0, a.w1, a.w2, a.w3, t.localPort, z.w0, z.w1, z.w2, z.w3, t.remotePort, vlan, conn);
  }

  clear(): void {
    this.v4.clear();
    this.v6.clear();
  }

  /** Every entry as a record (IPv4 text for the IPv4 table) with its connection; table order, not sorted. */
  *entries(): IterableIterator<[TupleRecord, C]> {
    for (const row of [...this.v4.rows()]) {
      const ports = this.v4.keyWord(row, 2);
      const rec: TupleRecord = {
        localAddress: ipv4Text(this.v4.keyWord(row, 0)),
        localPort: ports >>> 16,
        remoteAddress: ipv4Text(this.v4.keyWord(row, 1)),
        remotePort: ports & 0xffff,
        vlan: this.v4.keyWord(row, 3),
      };
      yield [rec, this.v4.valueAt(row) as C];
    }
    for (const row of [...this.v6.rows()]) {
      const w = (i: number): number => this.v6.keyWord(row, i);
      const ports = w(8);
      const rec: TupleRecord = {
        localAddress: ipv6Text(w(0), w(1), w(2), w(3)),
        localPort: ports >>> 16,
        remoteAddress: ipv6Text(w(4), w(5), w(6), w(7)),
        remotePort: ports & 0xffff,
        vlan: w(9),
      };
      yield [rec, this.v6.valueAt(row) as C];
    }
  }

  *values(): IterableIterator<C> {
    for (const [, c] of this.entries()) yield c;
  }

  private keysOf(t: TupleRecord): { v4: boolean; local: IpKey; remote: IpKey } {
    checkPort(t.localPort, 'localPort');
    checkPort(t.remotePort, 'remotePort');
    if (t.vlan !== undefined) checkVlan(t.vlan);
    const local = ipKeyOrThrow(t.localAddress);
    const remote = ipKeyOrThrow(t.remoteAddress);
    const v4 = isV4Like(local);
    if (v4 !== isV4Like(remote)) {
      throw new RangeError(`a connection cannot join ${t.localAddress} and ${t.remoteAddress}: one is IPv4, the other IPv6`);
    }
    return { v4, local, remote };
  }
}

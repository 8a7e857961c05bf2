/**
 * Not a test: a measurement of TupleIndex with a million connections (lookups per second, bytes
 * per entry), next to the two obvious alternatives (a Map with string keys built per lookup, and
 * a two-level numeric Map). Run it by hand; it prints one table:
 *
 *   mkdir -p /tmp/synack-measure && echo '{"type":"module"}' > /tmp/synack-measure/package.json
 *   npx tsc --outDir /tmp/synack-measure --rootDir . --module NodeNext --moduleResolution NodeNext \
 *     --target ES2022 --skipLibCheck test/socket/measure-tuple-index.ts
 *   node --expose-gc /tmp/synack-measure/test/socket/measure-tuple-index.js [entries]
 */
import { TupleIndex } from '../../src/socket/tuple-index.js';

const N = Number(process.argv[2] ?? 1_000_000);
const LOOKUPS = 4_000_000;

interface Conn {
  id: number;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

function heap(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

// Deterministic keys: a server (10.0.0.1:443 and :80) talking to 65536 clients in 172.16/12, ports 1024..65023.
let s = 0x9e3779b9;
function next(): number {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s >>> 0;
}
const local = 0x0a000001;
const remote = new Uint32Array(N);
const rport = new Uint16Array(N);
const lport = new Uint16Array(N);
const vlan = new Uint32Array(N);
for (let i = 0; i < N; i++) {
  // Unique by construction: 16 connections per client address, each in its own band of ports.
  remote[i] = 0xac100000 + (i >>> 4);
  rport[i] = 1024 + (i & 15) * 4000 + (next() % 4000);
  lport[i] = i & 1 ? 443 : 80;
  vlan[i] = i % 16 === 0 ? 43 : 0;
}
// Lookup order: random hits, and misses (a port no connection uses).
const order = new Uint32Array(LOOKUPS);
for (let i = 0; i < LOOKUPS; i++) order[i] = next() % N;

const conns: Conn[] = Array.from({ length: N }, (_, id) => ({ id }));

function rate(ops: number, ms: number): string {
  return `${(ops / ms / 1000).toFixed(1)} M/s`;
}

const rows: string[][] = [];

function measure(name: string, build: () => unknown, lookupHit: () => number, lookupMiss: () => number, remove: () => void): void {
  const h0 = heap();
  let t = performance.now();
  const keep = build();
  const buildMs = performance.now() - t;
  const bytes = heap() - h0;
  lookupHit(); // warm up
  t = performance.now();
  const found = lookupHit();
  const hitMs = performance.now() - t;
  t = performance.now();
  const missFound = lookupMiss();
  const missMs = performance.now() - t;
  t = performance.now();
  remove();
  const removeMs = performance.now() - t;
  if (found !== LOOKUPS || missFound !== 0) throw new Error(`${name}: ${found} hits, ${missFound} false hits`);
  rows.push([name, rate(N, buildMs), rate(LOOKUPS, hitMs), rate(LOOKUPS, missMs), rate(N, removeMs), (bytes / N).toFixed(1)]);
  void keep;
}

{
  let idx: TupleIndex<Conn> = new TupleIndex<Conn>();
  measure(
    'TupleIndex v4',
    () => {
      idx = new TupleIndex<Conn>({ seed: 12345 });
      for (let i = 0; i < N; i++) idx.hashV4(local, lport[i]!, remote[i]!, rport[i]!, vlan[i]!, conns[i]!);
      if (idx.size !== N) throw new Error(`duplicate keys: ${N - idx.size}`);
      return idx;
    },
    () => {
      let n = 0;
      for (let j = 0; j < LOOKUPS; j++) {
        const i = order[j]!;
        if (idx.lookupV4(local, lport[i]!, remote[i]!, rport[i]!, vlan[i]!) !== undefined) n++;
      }
      return n;
    },
    () => {
      let n = 0;
      for (let j = 0; j < LOOKUPS; j++) {
        const i = order[j]!;
        if (idx.lookupV4(local, 22, remote[i]!, rport[i]!, vlan[i]!) !== undefined) n++;
      }
      return n;
    },
    () => {
      for (let i = 0; i < N; i++) idx.unhashV4(local, lport[i]!, remote[i]!, rport[i]!, vlan[i]!);
    },
  );
  // Table bytes alone at full size (no connection objects), for the record.
  idx = new TupleIndex<Conn>({ seed: 1 });
  for (let i = 0; i < N; i++) idx.hashV4(local, lport[i]!, remote[i]!, rport[i]!, vlan[i]!, conns[i]!);
  console.log(`TupleIndex v4 tables at ${N} entries: ${(idx.tableBytes / N).toFixed(1)} bytes/entry (keys + value slots)`);
}

{
  // IPv6: the same keys spread into 2001:db8::/32-style addresses.
  const l = [0x20010db8, 0, 0, 1];
  let idx = new TupleIndex<Conn>();
  measure(
    'TupleIndex v6',
    () => {
      idx = new TupleIndex<Conn>({ seed: 999 });
      for (let i = 0; i < N; i++) {
        idx.hashV6Words(l[0]!, l[1]!, l[2]!, l[3]!, lport[i]!, 0x20010db8, 0xbeef, remote[i]!, 7, rport[i]!, vlan[i]!, conns[i]!);
      }
      return idx;
    },
    () => {
      let n = 0;
      for (let j = 0; j < LOOKUPS; j++) {
        const i = order[j]!;
        if (idx.lookupV6Words(0x20010db8, 0, 0, 1, lport[i]!, 0x20010db8, 0xbeef, remote[i]!, 7, rport[i]!, vlan[i]!) !== undefined) n++;
      }
      return n;
    },
    () => {
      let n = 0;
      for (let j = 0; j < LOOKUPS; j++) {
        const i = order[j]!;
        if (idx.lookupV6Words(0x20010db8, 0, 0, 1, 22, 0x20010db8, 0xbeef, remote[i]!, 7, rport[i]!, vlan[i]!) !== undefined) n++;
      }
      return n;
    },
    () => {
      for (let i = 0; i < N; i++) idx.unhashV6Words(l[0]!, l[1]!, l[2]!, l[3]!, lport[i]!, 0x20010db8, 0xbeef, remote[i]!, 7, rport[i]!, vlan[i]!);
    },
  );
}

{
  let m = new Map<string, Conn>();
  const key = (i: number, lp: number): string => `${local}|${lp}|${remote[i]}|${rport[i]}|${vlan[i]}`;
  measure(
    'Map<string> (key built per lookup)',
    () => {
      m = new Map();
      for (let i = 0; i < N; i++) m.set(key(i, lport[i]!), conns[i]!);
      return m;
    },
    () => {
      let n = 0;
      for (let j = 0; j < LOOKUPS; j++) if (m.get(key(order[j]!, lport[order[j]!]!)) !== undefined) n++;
      return n;
    },
    () => {
      let n = 0;
      for (let j = 0; j < LOOKUPS; j++) if (m.get(key(order[j]!, 22)) !== undefined) n++;
      return n;
    },
    () => {
      for (let i = 0; i < N; i++) m.delete(key(i, lport[i]!));
    },
  );
}

{
  // Two-level numeric Map: remote (addr * 65536 + port) -> (vlan * 65536 + local port) -> conn (local address fixed here).
  let m = new Map<number, Map<number, Conn>>();
  measure(
    'Map<number, Map<number>>',
    () => {
      m = new Map();
      for (let i = 0; i < N; i++) {
        const k1 = remote[i]! * 65536 + rport[i]!;
        let inner = m.get(k1);
        if (inner === undefined) m.set(k1, (inner = new Map()));
        inner.set(vlan[i]! * 65536 + lport[i]!, conns[i]!);
      }
      return m;
    },
    () => {
      let n = 0;
      for (let j = 0; j < LOOKUPS; j++) {
        const i = order[j]!;
        if (m.get(remote[i]! * 65536 + rport[i]!)?.get(vlan[i]! * 65536 + lport[i]!) !== undefined) n++;
      }
      return n;
    },
    () => {
      let n = 0;
      for (let j = 0; j < LOOKUPS; j++) {
        const i = order[j]!;
        if (m.get(remote[i]! * 65536 + rport[i]!)?.get(vlan[i]! * 65536 + 22) !== undefined) n++;
      }
      return n;
    },
    () => {
      for (let i = 0; i < N; i++) {
        const k1 = remote[i]! * 65536 + rport[i]!;
        const inner = m.get(k1)!;
        inner.delete(vlan[i]! * 65536 + lport[i]!);
        if (inner.size === 0) m.delete(k1);
      }
    },
  );
}

console.log(`\n${N} connections, ${LOOKUPS} lookups each way; bytes/entry = heap growth / entries (connection objects preallocated, not counted)\n`);
const head = ['structure', 'insert', 'lookup (hit)', 'lookup (miss)', 'remove', 'bytes/entry'];
const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
for (const r of [head, ...rows]) console.log(r.map((x, c) => x.padEnd(widths[c]!)).join('  '));

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { allocBytes, bytesOf, fromHex, type Bytes } from '../../src/wire/bytes.js';
import { writeIpv6 } from '../../src/wire/address.js';
import { TupleIndex, vlanKeyOf, type TupleRecord } from '../../src/socket/tuple-index.js';
import { V4Table, V6Table } from '../../src/socket/tuple-table.js';

interface Conn {
  name: string;
}
const conn = (name: string): Conn => ({ name });

/** Test-local Ethernet walk: VLAN IDs (outermost first) and the offset of the IP header. */
function linkOf(b: Bytes): { vlans: number[]; ipOff: number } {
  let off = 12;
  const vlans: number[] = [];
  let type = b.dv.getUint16(off);
  while (type === 0x8100 || type === 0x88a8) {
    vlans.push(b.dv.getUint16(off + 2) & 0xfff);
    off += 4;
    type = b.dv.getUint16(off);
  }
  return { vlans, ipOff: off + 2 };
}

// zeek-vlan-collisions.pcap: the same client SYN 141.142.228.5:59856 -> 192.150.187.43:80 three
// times, untagged (frame 1), in VLAN 42 (frame 2) and in QinQ 10,20 (frame 6). Bytes 0 .. end of
// the TCP ports of each frame.
const VLAN_FRAMES = {
  untagged: '0010db88d2efc8bcc896d2a0080045000040df8e400040066dd38d8ee405c096bb2be9d00050',
  vlan42: '0010db88d2efc8bcc896d2a08100902a080045000040df8e400040066dd38d8ee405c096bb2be9d00050',
  qinq: '0010db88d2efc8bcc896d2a08100500a81005014080045000040df8e400040066dd38d8ee405c096bb2be9d00050',
};

// ndpi-reddit-ipv6.pcap frame 1, bytes 0..57: SYN [2a01:cb01:2049:8b07:991d:ec85:28df:f629]:40028 -> [2a00:1450:4007:80a::200a]:443.
const V6_SYN = 'aadb03afc964e442a6e563f286dd60041a99002806402a01cb0120498b07991dec8528dff6292a0014504007080a000000000000200a9c5c01bb';

describe('vlanKeyOf', () => {
  test('untagged 0, one tag vid + 1, two tags above every one-tag key', () => {
    expect(vlanKeyOf([])).toBe(0);
    expect(vlanKeyOf([0])).toBe(1);
    expect(vlanKeyOf([42])).toBe(43);
    expect(vlanKeyOf([4095])).toBe(4096);
    expect(vlanKeyOf([0, 0])).toBe(4098);
    expect(vlanKeyOf([10, 20])).toBe(10 * 4097 + 20 + 4098);
    expect(vlanKeyOf([4095, 4095])).toBe(16785408);
    // PCP and DEI are not part of the key: only the 12 VID bits count.
    expect(vlanKeyOf([0x902a])).toBe(vlanKeyOf([42]));
  });

  test('property: stacks of up to two tags never share a key; order matters', () => {
    const stack = fc.array(fc.integer({ min: 0, max: 4095 }), { maxLength: 2 });
    fc.assert(
      fc.property(stack, stack, (a, b) => {
        const same = a.length === b.length && a.every((v, i) => v === b[i]);
        expect(vlanKeyOf(a) === vlanKeyOf(b)).toBe(same);
      }),
      { numRuns: 2000 },
    );
  });

  test('three or more tags land in [2^25, 2^32), away from exact keys', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4095 }), { minLength: 3, maxLength: 6 }), (ids) => {
        const k = vlanKeyOf(ids);
        expect(k).toBeGreaterThanOrEqual(2 ** 25);
        expect(k).toBeLessThan(2 ** 32);
        expect(Number.isInteger(k)).toBe(true);
      }),
    );
    expect(vlanKeyOf([1, 2, 3])).not.toBe(vlanKeyOf([3, 2, 1]));
  });
});

describe('TupleIndex on real frames', () => {
  test('zeek-vlan-collisions: one 4-tuple on three VLAN stacks is three connections', () => {
    const idx = new TupleIndex<Conn>({ seed: 0x1234 });
    const server = { localAddress: '192.150.187.43', localPort: 80, remoteAddress: '141.142.228.5', remotePort: 59856 };
    const c0 = conn('untagged');
    const c42 = conn('vlan 42');
    const cq = conn('qinq 10,20');
    expect(idx.hash({ ...server, vlan: vlanKeyOf([]) }, c0)).toBe(true);
    expect(idx.hash({ ...server, vlan: vlanKeyOf([42]) }, c42)).toBe(true);
    expect(idx.hash({ ...server, vlan: vlanKeyOf([10, 20]) }, cq)).toBe(true);
    expect(idx.size).toBe(3);
    const found = Object.entries(VLAN_FRAMES).map(([name, h]) => {
      const b = bytesOf(fromHex(h));
      const { vlans, ipOff } = linkOf(b);
      const tcpOff = ipOff + 20;
      // Arriving at the server: local = IPv4 destination (ip + 16), remote = source (ip + 12).
      const c = idx.lookupV4Bytes(b, ipOff + 16, b.dv.getUint16(tcpOff + 2), ipOff + 12, b.dv.getUint16(tcpOff), vlanKeyOf(vlans));
      return [name, c?.name];
    });
    expect(found).toEqual([
      ['untagged', 'untagged'],
      ['vlan42', 'vlan 42'],
      ['qinq', 'qinq 10,20'],
    ]);
    // Same 4-tuple, a VLAN stack nobody uses: no connection.
    const b = bytesOf(fromHex(VLAN_FRAMES.untagged));
    expect(idx.lookupV4Bytes(b, 14 + 16, 80, 14 + 12, 59856, vlanKeyOf([43]))).toBeUndefined();
    // The client's view of the same 4-tuple is a different key (local and remote swapped).
    expect(idx.lookupV4Bytes(b, 14 + 12, 59856, 14 + 16, 80, 0)).toBeUndefined();
  });

  test('ndpi-reddit-ipv6 frame 1: IPv6 lookup straight from the header bytes', () => {
    const idx = new TupleIndex<Conn>();
    const c = conn('reddit');
    idx.hash({ localAddress: '2a00:1450:4007:80a::200a', localPort: 443, remoteAddress: '2a01:cb01:2049:8b07:991d:ec85:28df:f629', remotePort: 40028 }, c);
    const b = bytesOf(fromHex(V6_SYN));
    const ip = 14;
    const tcp = ip + 40;
    expect(idx.lookupV6(b, ip + 24, b.dv.getUint16(tcp + 2), ip + 8, b.dv.getUint16(tcp))).toBe(c);
    expect(idx.lookupV6(b, ip + 24, 443, ip + 8, 40029)).toBeUndefined();
    expect(idx.lookupV6(b, ip + 24, 443, ip + 8, 40028, vlanKeyOf([7]))).toBeUndefined();
  });
});

describe('TupleIndex records', () => {
  const t: TupleRecord = { localAddress: '198.18.0.1', localPort: 80, remoteAddress: '198.18.0.2', remotePort: 40000 };

  test('hash refuses a taken tuple; replace overwrites and returns the old; unhash with a guard', () => {
    const idx = new TupleIndex<Conn>();
    const a = conn('a');
    const b = conn('b');
    expect(idx.hash(t, a)).toBe(true);
    expect(idx.hash(t, b)).toBe(false);
    expect(idx.lookupEstablished(t)).toBe(a);
    expect(idx.replace(t, b)).toBe(a);
    expect(idx.lookupEstablished(t)).toBe(b);
    expect(idx.unhash(t, a)).toBeUndefined(); // a no longer owns it
    expect(idx.size).toBe(1);
    expect(idx.unhash(t, b)).toBe(b);
    expect(idx.size).toBe(0);
    expect(idx.unhash(t)).toBeUndefined();
    expect(idx.replace(t, a)).toBeUndefined();
    expect(idx.unhash(t)).toBe(a);
  });

  test('numeric and record forms agree', () => {
    const idx = new TupleIndex<Conn>();
    const a = conn('a');
    idx.hash(t, a);
    expect(idx.lookupV4(0xc6120001, 80, 0xc6120002, 40000)).toBe(a);
    expect(idx.lookupV4(0xc6120001, 80, 0xc6120002, 40000, 0)).toBe(a);
    expect(idx.hashV4(0xc6120001, 80, 0xc6120002, 40000, 0, conn('x'))).toBe(false);
    expect(idx.hashV4(0xc6120001, 81, 0xc6120002, 40000, 0, conn('y'))).toBe(true);
    expect(idx.lookupEstablished({ ...t, localPort: 81 })?.name).toBe('y');
    expect(idx.unhashV4(0xc6120001, 80, 0xc6120002, 40000, 0)).toBe(a);
    expect(idx.lookupEstablished(t)).toBeUndefined();
  });

  test('v4-mapped IPv6 tuples live with IPv4 ones (an IPv4 frame finds them), as Linux sk_ehashfn', () => {
    const idx = new TupleIndex<Conn>();
    const a = conn('v6 socket, v4 peer');
    idx.hash({ localAddress: '::ffff:198.18.0.1', localPort: 80, remoteAddress: '::ffff:198.18.0.2', remotePort: 40000 }, a);
    expect(idx.lookupV4(0xc6120001, 80, 0xc6120002, 40000)).toBe(a);
    expect(idx.lookupEstablished(t)).toBe(a);
    expect(idx.hash(t, conn('dup'))).toBe(false);
  });

  test('records that cannot be a connection are programmer errors', () => {
    const idx = new TupleIndex<Conn>();
    expect(() => idx.hash({ ...t, remoteAddress: '2001:db8::1' }, conn('x'))).toThrow(RangeError);
    expect(() => idx.hash({ ...t, localAddress: 'nope' }, conn('x'))).toThrow(RangeError);
    expect(() => idx.hash({ ...t, localPort: 65536 }, conn('x'))).toThrow(RangeError);
    expect(() => idx.hash({ ...t, vlan: -1 }, conn('x'))).toThrow(RangeError);
  });

  test('entries give back text records', () => {
    const idx = new TupleIndex<Conn>();
    idx.hash({ ...t, vlan: 43 }, conn('a'));
    idx.hash({ localAddress: '2001:db8::1', localPort: 443, remoteAddress: '2001:db8::2', remotePort: 50000 }, conn('b'));
    const got = [...idx.entries()].map(([r, c]) => [r, c.name]);
    expect(got).toEqual([
      [{ ...t, vlan: 43 }, 'a'],
      [{ localAddress: '2001:db8::1', localPort: 443, remoteAddress: '2001:db8::2', remotePort: 50000, vlan: 0 }, 'b'],
    ]);
    expect([...idx.values()].map((c) => c.name)).toEqual(['a', 'b']);
    idx.clear();
    expect(idx.size).toBe(0);
  });

  test('grows and shrinks back; every entry stays reachable', () => {
    const idx = new TupleIndex<Conn>({ seed: 7 });
    const n = 20000;
    const cs: Conn[] = [];
    for (let i = 0; i < n; i++) {
      const c = conn(String(i));
      cs.push(c);
      if (!idx.hashV4(0x0a000001, 80, 0x0a010000 + (i >> 8), 1024 + i, i & 3, c)) throw new Error(`hash ${i} refused`);
    }
    expect(idx.size).toBe(n);
    const big = idx.tableBytes;
    let wrong = 0;
    for (let i = 0; i < n; i++) if (idx.lookupV4(0x0a000001, 80, 0x0a010000 + (i >> 8), 1024 + i, i & 3) !== cs[i]) wrong++;
    for (let i = 0; i < n; i += 2) if (idx.unhashV4(0x0a000001, 80, 0x0a010000 + (i >> 8), 1024 + i, i & 3) !== cs[i]) wrong++;
    for (let i = 0; i < n; i++) {
      const want = i % 2 === 0 ? undefined : cs[i];
      if (idx.lookupV4(0x0a000001, 80, 0x0a010000 + (i >> 8), 1024 + i, i & 3) !== want) wrong++;
    }
    expect(wrong).toBe(0);
    for (let i = 1; i < n; i += 2) idx.unhashV4(0x0a000001, 80, 0x0a010000 + (i >> 8), 1024 + i, i & 3);
    expect(idx.size).toBe(0);
    expect(idx.tableBytes).toBeLessThan(big / 100);
  });
});

describe('property: TupleIndex agrees with a Map<string> model', () => {
  // Small pools so that keys share parts (same addresses, same ports, same VLAN) and repeat.
  const v4 = fc.constantFrom('10.0.0.1', '10.0.0.2', '192.0.2.7', '0.0.0.0', '255.255.255.255', '::ffff:10.0.0.1');
  const v6 = fc.constantFrom('2001:db8::1', '2001:db8::2', 'fe80::1', '::1', '2001:db8:0:0:1::1');
  const port = fc.constantFrom(0, 1, 80, 443, 40000, 65535);
  const vlan = fc.constantFrom(0, vlanKeyOf([1]), vlanKeyOf([42]), vlanKeyOf([10, 20]), vlanKeyOf([20, 10]), 0xffffffff);
  const record: fc.Arbitrary<TupleRecord> = fc.oneof(
    fc.record({ localAddress: v4, localPort: port, remoteAddress: v4, remotePort: port, vlan }),
    fc.record({ localAddress: v6, localPort: port, remoteAddress: v6, remotePort: port, vlan }),
  );
  type Op = { kind: 'hash' | 'unhash' | 'lookup' | 'replace' | 'numeric'; t: TupleRecord };
  const op: fc.Arbitrary<Op> = fc.record({ kind: fc.constantFrom('hash', 'hash', 'unhash', 'lookup', 'replace', 'numeric'), t: record });

  /** The model's key: canonical numbers, with v4-mapped folded onto IPv4 as the index does. */
  function modelKey(t: TupleRecord): string {
    // Canonical text (RFC 5952 for the one non-canonical IPv6 input), v4-mapped folded onto IPv4.
    const canonical: Record<string, string> = { '2001:db8:0:0:1::1': '2001:db8::1:0:0:1' };
    const norm = (a: string): string => (a.startsWith('::ffff:') ? a.slice(7) : canonical[a] ?? a);
    return `${norm(t.localAddress)}|${t.localPort}|${norm(t.remoteAddress)}|${t.remotePort}|${t.vlan ?? 0}`;
  }

  const hdr = allocBytes(32);

  function u32(a: string): number {
    return a.replace('::ffff:', '').split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  }

  test('random hash/unhash/replace/lookup sequences (IPv4, IPv6, VLANs)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), fc.integer(), (ops, seed) => {
        const idx = new TupleIndex<Conn>({ seed });
        const model = new Map<string, Conn>();
        let n = 0;
        for (const { kind, t } of ops) {
          const k = modelKey(t);
          if (kind === 'hash') {
            const c = conn(String(n++));
            expect(idx.hash(t, c)).toBe(!model.has(k));
            if (!model.has(k)) model.set(k, c);
          } else if (kind === 'replace') {
            const c = conn(String(n++));
            expect(idx.replace(t, c)).toBe(model.get(k));
            model.set(k, c);
          } else if (kind === 'unhash') {
            expect(idx.unhash(t)).toBe(model.get(k));
            model.delete(k);
          } else if (kind === 'numeric') {
            // The frame side: IPv4 as u32s, IPv6 as header-like bytes.
            const isV6 = t.localAddress.includes(':') && !t.localAddress.startsWith('::ffff:');
            if (isV6) {
              writeIpv6(t.localAddress, hdr, 0);
              writeIpv6(t.remoteAddress, hdr, 16);
              expect(idx.lookupV6(hdr, 0, t.localPort, 16, t.remotePort, t.vlan ?? 0)).toBe(model.get(k));
            } else {
              expect(idx.lookupV4(u32(t.localAddress), t.localPort, u32(t.remoteAddress), t.remotePort, t.vlan ?? 0)).toBe(model.get(k));
            }
          } else {
            expect(idx.lookupEstablished(t)).toBe(model.get(k));
          }
          expect(idx.size).toBe(model.size);
        }
        // Everything the model holds is reachable, and nothing else is there.
        for (const [r, c] of idx.entries()) expect(model.get(modelKey(r))).toBe(c);
        expect([...idx.entries()].length).toBe(model.size);
      }),
      { numRuns: 300 },
    );
  });

  test('probe chains under forced collisions: every key word is compared, deletion keeps keys reachable', () => {
    // Drive the row tables directly with a hash from a tiny range, unrelated to the key: long probe
    // runs that wrap the table, where only a full key comparison tells entries apart.
    // Keys that differ from each other in one word: a comparison that skips any word is caught.
    for (const width of [4, 10]) {
      const key = fc
        .record({ pos: fc.integer({ min: 0, max: width - 1 }), value: fc.constantFrom(0, 1, 0xffffffff) })
        .map(({ pos, value }) => Array.from({ length: width }, (_, i) => (i === pos ? value : 7)));
      fc.assert(
        fc.property(
          fc.array(fc.record({ add: fc.boolean(), key, h: fc.integer({ min: 0, max: 3 }) }), { maxLength: 200 }),
          (ops) => {
            const table = width === 4 ? new V4Table<string>(0) : new V6Table<string>(0);
            const find = (h: number, k: number[]): number =>
              table instanceof V4Table
                ? table.find(h, k[0]!, k[1]!, k[2]!, k[3]!)
                : table.find(h, k[0]!, k[1]!, k[2]!, k[3]!, k[4]!, k[5]!, k[6]!, k[7]!, k[8]!, k[9]!);
            const add = (h: number, k: number[], v: string): void => {
              if (table instanceof V4Table) table.add(h, k[0]!, k[1]!, k[2]!, k[3]!, v);
              else table.add(h, k[0]!, k[1]!, k[2]!, k[3]!, k[4]!, k[5]!, k[6]!, k[7]!, k[8]!, k[9]!, v);
            };
            const model = new Map<string, number>(); // key text -> its hash
            const hashOf = (h: number): number => h * 4 + 13; // homes near the end of a 16-row table
            for (const { add: adding, key, h } of ops) {
              const text = key.join(',');
              const hh = model.get(text) ?? hashOf(h);
              const row = find(hh, key);
              expect(row >= 0).toBe(model.has(text));
              if (adding && row < 0) {
                add(hh, key, text);
                model.set(text, hh);
              } else if (!adding && row >= 0) {
                expect(table.removeAt(row)).toBe(text);
                model.delete(text);
              }
              expect(table.size).toBe(model.size);
              for (const [k, kh] of model) expect(table.valueAt(find(kh, k.split(',').map(Number)))).toBe(k);
            }
          },
        ),
        { numRuns: 200 },
      );
    }
  });
});

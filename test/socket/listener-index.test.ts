import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { allocBytes, bytesOf, fromHex } from '../../src/wire/bytes.js';
import { writeIpv4, writeIpv6 } from '../../src/wire/address.js';
import { ListenerIndex, type ListenerKey } from '../../src/socket/listener-index.js';
import { vlanKeyOf } from '../../src/socket/tuple-index.js';

interface L {
  name: string;
}
const l = (name: string): L => ({ name });

function v4(a: string): number {
  return a.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

describe('ListenerIndex', () => {
  test('exact address beats ANY, whatever the order they were added in', () => {
    for (const order of [0, 1]) {
      const idx = new ListenerIndex<L>();
      const exact = l('exact');
      const any = l('any');
      if (order === 0) {
        idx.add({ address: '198.18.0.1', port: 80 }, exact);
        idx.add({ address: '0.0.0.0', port: 80 }, any);
      } else {
        idx.add({ address: '0.0.0.0', port: 80 }, any);
        idx.add({ address: '198.18.0.1', port: 80 }, exact);
      }
      expect(idx.lookupV4(v4('198.18.0.1'), 80)).toBe(exact);
      expect(idx.lastStep).toBe('listener-exact');
      expect(idx.lookupV4(v4('198.18.0.2'), 80)).toBe(any);
      expect(idx.lastStep).toBe('listener-any');
      expect(idx.lookupV4(v4('198.18.0.1'), 81)).toBeUndefined();
      expect(idx.lastStep).toBe('none');
    }
  });

  test('IPv6: exact beats ::; IPv6 frames never reach IPv4 listeners', () => {
    const idx = new ListenerIndex<L>();
    const v4any = l('v4 any');
    const v6exact = l('v6 exact');
    const v6any = l('v6 any');
    idx.add({ address: '0.0.0.0', port: 443 }, v4any);
    idx.add({ address: '::', port: 443, v6only: true }, v6any);
    idx.add({ address: '2001:db8::1', port: 443 }, v6exact);
    expect(idx.lookup('2001:db8::1', 443)).toBe(v6exact);
    expect(idx.lastStep).toBe('listener-exact');
    expect(idx.lookup('2001:db8::2', 443)).toBe(v6any);
    expect(idx.lastStep).toBe('listener-any');
    idx.remove(v6any);
    expect(idx.lookup('2001:db8::2', 443)).toBeUndefined();
    expect(idx.lookup('198.18.0.9', 443)).toBe(v4any);
  });

  test('an AF_INET6 listener on :: takes IPv4 unless IPV6_V6ONLY; AF_INET wins a tie (compute_score)', () => {
    const idx = new ListenerIndex<L>();
    const dual = l('[::]:80');
    idx.add({ address: '::', port: 80 }, dual);
    expect(idx.lookup('198.18.0.1', 80)).toBe(dual);
    expect(idx.lastStep).toBe('listener-any');
    expect(idx.lookup('2001:db8::1', 80)).toBe(dual);

    const only = l('[::]:81 v6only');
    idx.add({ address: '::', port: 81, v6only: true }, only);
    expect(idx.lookup('198.18.0.1', 81)).toBeUndefined();
    expect(idx.lookup('2001:db8::1', 81)).toBe(only);

    // Both wildcards on one port (possible with SO_REUSEADDR games): the AF_INET one scores higher for IPv4.
    const plain = l('0.0.0.0:80');
    idx.add({ address: '0.0.0.0', port: 80 }, plain);
    expect(idx.lookup('198.18.0.1', 80)).toBe(plain);
    idx.remove(plain);
    idx.add({ address: '0.0.0.0', port: 80 }, plain);
    expect(idx.lookup('198.18.0.1', 80)).toBe(plain);
    expect(idx.lookup('2001:db8::1', 80)).toBe(dual);
  });

  test('v4-mapped listeners: ::ffff:a.b.c.d is exact for IPv4, ::ffff:0.0.0.0 is an IPv4 wildcard', () => {
    const idx = new ListenerIndex<L>();
    const mapped = l('[::ffff:198.18.0.1]:80');
    const mappedAny = l('[::ffff:0.0.0.0]:80');
    idx.add({ address: '::ffff:198.18.0.1', port: 80 }, mapped);
    idx.add({ address: '::ffff:0.0.0.0', port: 80 }, mappedAny);
    expect(idx.lookup('198.18.0.1', 80)).toBe(mapped);
    expect(idx.lastStep).toBe('listener-exact');
    expect(idx.lookup('198.18.0.2', 80)).toBe(mappedAny);
    expect(idx.lastStep).toBe('listener-any');
    expect(idx.lookup('2001:db8::1', 80)).toBeUndefined();
    expect(idx.addressOf(mapped)).toBe('::ffff:198.18.0.1');
  });

  test('VLAN-bound listeners: only their VLAN, preferred within a pass, but an exact address still beats them', () => {
    const idx = new ListenerIndex<L>();
    const anyUnbound = l('any, all VLANs');
    const anyOn42 = l('any, VLAN 42');
    const exactUnbound = l('exact, all VLANs');
    idx.add({ address: '0.0.0.0', port: 80, vlan: vlanKeyOf([42]) }, anyOn42);
    idx.add({ address: '0.0.0.0', port: 80 }, anyUnbound);
    expect(idx.lookup('198.18.0.1', 80, vlanKeyOf([42]))).toBe(anyOn42);
    expect(idx.lookup('198.18.0.1', 80, vlanKeyOf([43]))).toBe(anyUnbound);
    expect(idx.lookup('198.18.0.1', 80)).toBe(anyUnbound);
    idx.add({ address: '198.18.0.1', port: 80 }, exactUnbound);
    expect(idx.lookup('198.18.0.1', 80, vlanKeyOf([42]))).toBe(exactUnbound);
    expect(idx.lastStep).toBe('listener-exact');
  });

  test('from real frame bytes (destination address and port read by the caller)', () => {
    // zeek-vlan-collisions.pcap frame 1, bytes 0..37: SYN 141.142.228.5:59856 -> 192.150.187.43:80.
    const f1 = bytesOf(fromHex('0010db88d2efc8bcc896d2a0080045000040df8e400040066dd38d8ee405c096bb2be9d00050'));
    // ndpi-reddit-ipv6.pcap frame 1, bytes 0..57: SYN -> [2a00:1450:4007:80a::200a]:443.
    const f2 = bytesOf(fromHex('aadb03afc964e442a6e563f286dd60041a99002806402a01cb0120498b07991dec8528dff6292a0014504007080a000000000000200a9c5c01bb'));
    const idx = new ListenerIndex<L>();
    const web = l('web');
    const tls = l('tls');
    idx.add({ address: '192.150.187.43', port: 80 }, web);
    idx.add({ address: '::', port: 443 }, tls);
    expect(idx.lookupV4Bytes(f1, 14 + 16, f1.dv.getUint16(14 + 20 + 2))).toBe(web);
    expect(idx.lastStep).toBe('listener-exact');
    expect(idx.lookupV6(f2, 14 + 24, f2.dv.getUint16(14 + 40 + 2))).toBe(tls);
    expect(idx.lastStep).toBe('listener-any');
  });

  test('bookkeeping: add twice throws, remove, keys back', () => {
    const idx = new ListenerIndex<L>();
    const a = l('a');
    idx.add({ address: '::', port: 22, v6only: true }, a);
    expect(() => idx.add({ address: '::', port: 23 }, a)).toThrow(RangeError);
    expect(() => idx.add({ address: 'x', port: 23 }, l('b'))).toThrow(RangeError);
    expect(idx.keyOf(a)).toEqual({ address: '::', port: 22, v6only: true });
    expect([...idx.entries()]).toEqual([[{ address: '::', port: 22, v6only: true }, a]]);
    expect(idx.size).toBe(1);
    expect(idx.remove(a)).toBe(true);
    expect(idx.remove(a)).toBe(false);
    expect(idx.size).toBe(0);
    expect(idx.lookup('not an address', 22)).toBeUndefined();
  });

  test('property: lookup order is exact > ANY, best score within a pass, newest first on ties', () => {
    const v4addr = fc.constantFrom('10.0.0.1', '10.0.0.2', '0.0.0.0');
    const v6addr = fc.constantFrom('2001:db8::1', '2001:db8::2', '::', '::ffff:10.0.0.1', '::ffff:0.0.0.0');
    const vlan = fc.option(fc.constantFrom(0, 43, 5000), { nil: undefined });
    const key: fc.Arbitrary<ListenerKey> = fc.oneof(
      fc.record({ address: v4addr, port: fc.constantFrom(80, 81), vlan }),
      fc.record({ address: v6addr, port: fc.constantFrom(80, 81), v6only: fc.boolean(), vlan }),
    );
    const probe = fc.record({ address: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', '2001:db8::1', '2001:db8::3'), port: fc.constantFrom(80, 81), vlan: fc.constantFrom(0, 43, 5000) });

    // The model spells out Linux's rules on text, independently of the index's numbers.
    function model(keys: Array<{ k: ListenerKey; v: L }>, p: { address: string; port: number; vlan: number }): [L | undefined, string] {
      const frameV4 = !p.address.includes(':');
      const pass = (anyPass: boolean): L | undefined => {
        let best: L | undefined;
        let hi = 0;
        for (const { k, v } of keys) {
          if (k.port !== p.port) continue;
          if (k.vlan !== undefined && k.vlan !== p.vlan) continue;
          const isV6 = k.address.includes(':');
          const mapped = k.address.startsWith('::ffff:');
          const v6only = isV6 && k.v6only === true && !mapped;
          let ok: boolean;
          if (frameV4) {
            if (isV6 && v6only) ok = false;
            else if (anyPass) ok = k.address === '0.0.0.0' || k.address === '::' || k.address === '::ffff:0.0.0.0';
            else ok = (mapped ? k.address.slice(7) : k.address) === p.address && k.address !== '::ffff:0.0.0.0';
          } else {
            ok = isV6 && (anyPass ? k.address === '::' : k.address === p.address);
          }
          if (!ok) continue;
          const score = (k.vlan !== undefined ? 2 : 1) + (frameV4 && !isV6 ? 1 : 0);
          if (score >= hi) {
            hi = score;
            best = v; // later entries win ties: newest first, as Linux's head insertion
          }
        }
        return best;
      };
      const exact = pass(false);
      if (exact !== undefined) return [exact, 'listener-exact'];
      const any = pass(true);
      return any !== undefined ? [any, 'listener-any'] : [undefined, 'none'];
    }

    fc.assert(
      fc.property(fc.array(key, { maxLength: 8 }), fc.array(probe, { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { maxLength: 3 }), (keys, probes, removals) => {
        const idx = new ListenerIndex<L>();
        // v6only is meaningless on v4-mapped addresses (bind refuses it); drop it there.
        const live = keys.map((k, i) => ({ k: k.address.startsWith('::ffff:') ? { ...k, v6only: false } : k, v: l(`#${i}`) }));
        for (const { k, v } of live) idx.add(k, v);
        for (const r of removals) {
          if (live.length === 0) break;
          const [gone] = live.splice(r % live.length, 1);
          idx.remove(gone!.v);
        }
        const b = allocBytes(16);
        for (const p of probes) {
          const [want, step] = model(live, p);
          let got: L | undefined;
          if (p.address.includes(':')) {
            writeIpv6(p.address, b, 0);
            got = idx.lookupV6(b, 0, p.port, p.vlan);
          } else {
            writeIpv4(p.address, b, 0);
            got = idx.lookupV4Bytes(b, 0, p.port, p.vlan);
          }
          expect(got?.name).toBe(want?.name);
          expect(idx.lastStep).toBe(step);
        }
      }),
      { numRuns: 500 },
    );
  });
});

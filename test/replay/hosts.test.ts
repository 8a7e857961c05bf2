import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { HostRegistry } from '../../src/replay/hosts.js';
import type { Host } from '../../src/replay/hosts.js';
import { allocBytes } from '../../src/wire/bytes.js';

/** The 4 bytes of an IPv4 address (uint32) in a buffer, as a header holds them. */
function v4(addr: number): ReturnType<typeof allocBytes> {
  const b = allocBytes(4);
  b.dv.setUint32(0, addr >>> 0);
  return b;
}

describe('HostRegistry', () => {
  test('property: IPv4 hosts found, made and dropped as a map of held hosts would (naive model)', () => {
    // Addresses from a pool of neighbours and random words, many more than the table's first size, so
    // it grows and removals shift probe runs back; a held host (refs > 0) stays through release().
    type Op = { kind: 'at'; pick: number; hold: boolean } | { kind: 'release'; pick: number } | { kind: 'peek'; pick: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ pick: fc.nat(), hold: fc.boolean() }).map<Op>((r) => ({ kind: 'at', ...r })) },
      { weight: 4, arbitrary: fc.nat().map<Op>((pick) => ({ kind: 'release', pick })) },
      { weight: 1, arbitrary: fc.nat().map<Op>((pick) => ({ kind: 'peek', pick })) },
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 150 }), fc.array(op, { minLength: 300, maxLength: 800 }), (random, ops) => {
        const pool = [...random, ...Array.from({ length: 150 }, (_, i) => (0xc6120000 + i) >>> 0), 0, 0xffffffff];
        const reg = new HostRegistry();
        const model = new Map<number, Host>();
        let lastId = 0;
        for (const o of ops) {
          const addr = pool[o.pick % pool.length] as number;
          if (o.kind === 'at') {
            const h = reg.at(v4(addr), 0, 4);
            const held = model.get(addr);
            if (held !== undefined) expect(h).toBe(held);
            else {
              expect(h.id).toBeGreaterThan(lastId);
              lastId = h.id;
              expect(h.w3).toBe(addr);
              expect(h.text).toBe(`${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`);
              model.set(addr, h);
            }
            if (o.hold) h.refs = 1;
          } else if (o.kind === 'release') {
            const h = model.get(addr);
            if (h === undefined) continue;
            reg.release(h);
            if (h.refs === 0) model.delete(addr);
            // A host let go leaves: the next at() makes a new one (perhaps in the same object).
            h.refs = 0;
          } else expect(reg.peek(v4(addr), 0, 4)).toBe(model.get(addr));
          expect(reg.size).toBe(model.size);
        }
        expect(reg.list()).toEqual([...model.values()].sort((a, b) => a.id - b.id));
        for (const [addr, h] of model) expect(reg.peek(v4(addr), 0, 4)).toBe(h);
      }),
      { numRuns: 100 },
    );
  });

  test('an endpoint text is the address and port, made again for a reused object', () => {
    const reg = new HostRegistry();
    const h = reg.at(v4(0xc6120001), 0, 4);
    expect(h.endpointText(40001)).toBe('198.18.0.1:40001');
    expect(h.endpointText(40001)).toBe('198.18.0.1:40001');
    expect(h.endpointText(40002)).toBe('198.18.0.1:40002');
    reg.release(h);
    const g = reg.at(v4(0xc6120002), 0, 4);
    expect(g.endpointText(40002)).toBe('198.18.0.2:40002');
    const s = reg.byText('2001:db8::1') as Host;
    s.addListener(80, false);
    expect(s.endpointText(80)).toBe('[2001:db8::1]:80');
    expect(s.endpointText(443)).toBe('[2001:db8::1]:443');
    expect(s.endpointText(80)).toBe('[2001:db8::1]:80');
  });
});

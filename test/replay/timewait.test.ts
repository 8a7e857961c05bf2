/**
 * The replay's TIME-WAIT table (src/replay/timewait.ts) against a Map: random adds, early removals,
 * expiries and lookups of present and absent 4-tuples, so its presence filter (a counting filter in
 * front of the table) can never hide a record the table holds.
 */
import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { allocBytes } from '../../src/wire/bytes.js';
import { Conn } from '../../src/replay/conn.js';
import type { Endpoint } from '../../src/replay/conn.js';
import { HostRegistry } from '../../src/replay/hosts.js';
import { TimeWaitTable } from '../../src/replay/timewait.js';
import type { TwSock } from '../../src/replay/timewait.js';

describe('TimeWaitTable', () => {
  it('finds exactly the records a model holds, whatever was added, replaced, removed or expired', () => {
    // Few addresses and ports, so 4-tuples repeat (a new record replaces the old) and lookups hit.
    const tuple = fc.record({ c: fc.nat({ max: 5 }), cport: fc.nat({ max: 3 }), key: fc.nat({ max: 1 }) });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), t: tuple }),
      fc.record({ kind: fc.constant('remove' as const), t: tuple }),
      fc.record({ kind: fc.constant('expire' as const), t: tuple }),
      fc.record({ kind: fc.constant('lookup' as const), t: tuple }),
    );
    fc.assert(
      // A filter of 2 or 4 slots (or the default 2^21): records share slots, so a count wrong by one hides a record.
      fc.property(fc.array(op, { maxLength: 200 }), fc.boolean(), fc.constantFrom(1, 2, 21), (ops, v6, bits) => {
        const hosts = new HostRegistry();
        const server = hosts.byText(v6 ? '2001:db8::1' : '198.18.0.1');
        const table = new TimeWaitTable(1 << 20, undefined, bits);
        const model = new Map<string, TwSock>();
        const b = allocBytes(32);
        let now = 0;
        let id = 1;
        const name = (t: { c: number; cport: number; key: number }): string => `${t.c}/${t.cport}/${t.key}`;
        for (const o of ops) {
          const client = hosts.byText(v6 ? `2001:db8::1:${o.t.c + 10}` : `198.18.1.${o.t.c + 10}`);
          if (server === undefined || client === undefined) throw new Error('test addresses');
          const port = 40000 + o.t.cport;
          if (o.kind === 'add') {
            // The server end of a connection from client:port, received on link key `key`.
            const c = new Conn(id, id, 0, client, port, server, 80, o.t.key, o.t.key, 0);
            c.id = id++;
            const e: Endpoint = c.server;
            model.set(name(o.t), table.add(e, ++now + 1000));
          } else if (o.kind === 'remove') {
            const tw = model.get(name(o.t));
            if (tw !== undefined) {
              table.remove(tw);
              model.delete(name(o.t));
            }
          } else if (o.kind === 'expire') {
            // Everything due by a later time leaves the table.
            now += 300;
            for (let tw = table.popDue(now); tw !== undefined; tw = table.popDue(now)) {
              for (const [k, v] of model) if (v === tw) model.delete(k);
            }
          }
          // Every lookup, present or absent, from the frame side (bytes) and the socket side (words).
          for (let c = 0; c <= 5; c++) {
            for (let cport = 0; cport <= 3; cport++) {
              for (let key = 0; key <= 1; key++) {
                const want = model.get(name({ c, cport, key }));
                const ch = hosts.byText(v6 ? `2001:db8::1:${c + 10}` : `198.18.1.${c + 10}`);
                if (ch === undefined || server === undefined) throw new Error('test addresses');
                for (const [h, off] of [[ch, 0], [server, 16]] as const) {
                  if (v6) [h.w0, h.w1, h.w2, h.w3].forEach((w, i) => b.dv.setUint32(off + 4 * i, w));
                  else b.dv.setUint32(off, h.w3);
                }
                expect(table.lookup(b, v6, 0, 40000 + cport, 16, 80, key)).toBe(want);
                const probe = new Conn(0, 0, 0, ch, 40000 + cport, server, 80, key, key, 0);
                expect(table.lookupOf(probe.server)).toBe(want);
              }
            }
          }
          expect(table.size).toBe(model.size);
        }
      }),
      { numRuns: 150 },
    );
  });
});

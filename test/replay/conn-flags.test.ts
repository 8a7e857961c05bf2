/**
 * Conn's and Endpoint's boolean fields live as bits of one number (src/replay/conn.ts flagFields): each
 * flag reads back what was written, independently of every other, and a reused object's init() clears
 * them all as a new one starts (the client sorting first is the one flag a new connection starts with).
 */
import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { Conn, CONN_FLAGS, ENDPOINT_FLAGS } from '../../src/replay/conn.js';
import { HostRegistry } from '../../src/replay/hosts.js';

function fresh(): Conn {
  const hosts = new HostRegistry();
  const a = hosts.byText('198.18.0.11');
  const b = hosts.byText('198.18.0.1');
  if (a === undefined || b === undefined) throw new Error('test addresses');
  return new Conn(1, 1, 0, a, 40000, b, 80, 0, 0, 0);
}

type Flags = Record<string, boolean>;

describe('connection flags as bits', () => {
  for (const [what, names, pick] of [
    ['Conn', Object.keys(CONN_FLAGS), (c: Conn): Flags => c as unknown as Flags],
    ['Endpoint', Object.keys(ENDPOINT_FLAGS), (c: Conn): Flags => c.server as unknown as Flags],
  ] as const) {
    it(`${what}: each flag is set and cleared alone, whatever the others hold`, () => {
      fc.assert(
        fc.property(fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length }), (values) => {
          const o = pick(fresh());
          names.forEach((n, i) => (o[n] = values[i] as boolean));
          for (const [i, n] of names.entries()) {
            for (const v of [true, false, values[i] as boolean]) {
              o[n] = v;
              for (const [j, m] of names.entries()) expect([m, o[m]]).toEqual([m, j === i ? v : values[j]]);
            }
          }
        }),
        { numRuns: 200 },
      );
    });

    it(`${what}: init() makes a used object's flags those of a new one`, () => {
      const c = fresh();
      const o = pick(c);
      const start = Object.fromEntries(names.map((n) => [n, o[n]]));
      for (const n of names) o[n] = !start[n];
      c.init(2, 2, 0, c.client.host, 40001, c.server.host, 80, 0, 0, 0);
      for (const n of names) expect([n, o[n]]).toEqual([n, start[n]]);
    });
  }

  it('a new connection starts with only clientFirst set', () => {
    const c = fresh() as unknown as Flags;
    for (const n of Object.keys(CONN_FLAGS)) expect([n, c[n]]).toEqual([n, n === 'clientFirst']);
    const e = fresh().client as unknown as Flags;
    for (const n of Object.keys(ENDPOINT_FLAGS)) expect([n, e[n]]).toEqual([n, false]);
  });
});

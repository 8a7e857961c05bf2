import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { seededRandom } from '../../src/testing/random.js';
import { isErrno, type Errno, type Result } from '../../src/socket/errno.js';
import { addressesOverlap, EPHEMERAL_RANGE, PortTable, type PortBinding } from '../../src/socket/ports.js';
import { parseIp } from '../../src/socket/ip.js';
import { sipHash24, sipKeyFrom } from '../../src/wire/siphash.js';
import { TupleIndex } from '../../src/socket/tuple-index.js';

interface Conn {
  name: string;
  timeWait?: boolean;
}

function table(seed = 1, extra: Partial<ConstructorParameters<typeof PortTable>[0]> = {}): PortTable {
  return new PortTable({ rand: seededRandom(seed), perturbOrder: 8, ...extra });
}

function ok<T>(r: Result<T>): T {
  if (isErrno(r)) throw new Error(`unexpected ${r}`);
  return r;
}

/**
 * tools/testing/selftests/net/bind_wildcard.c (Linux, 2024): two sockets bind one port (the
 * first with port 0), then six more try the same port, without SO_REUSEADDR, on 0.0.0.0,
 * 127.0.0.1, ::, ::1, ::ffff:0.0.0.0 and ::ffff:127.0.0.1. The expected errno of each of the
 * eight binds, plain and with SO_REUSEADDR on the first two, is the kernel's own expectation
 * ('.' = success, 'E' = EADDRINUSE).
 */
const ANY4 = '0.0.0.0';
const LO4 = '127.0.0.1';
const ANY6 = '::';
const LO6 = '::1';
const MAP_ANY = '::ffff:0.0.0.0';
const MAP_LO = '::ffff:127.0.0.1';
const FOLLOWERS = [ANY4, LO4, ANY6, LO6, MAP_ANY, MAP_LO];
const BIND_WILDCARD: Array<[string, [string, string], [boolean, boolean], string, string]> = [
  ['v4_any_v4_local', [ANY4, LO4], [false, false], '.EEEE.EE', '..EEE.EE'],
  ['v4_local_v4_any', [LO4, ANY4], [false, false], '.EEEE.EE', '..EEE.EE'],
  ['v4_any_v6_any', [ANY4, ANY6], [false, false], '.EEEE.EE', '..EEEEEE'],
  ['v4_any_v6_any_only', [ANY4, ANY6], [false, true], '..EEEEEE', '..EEEEEE'],
  ['v4_any_v6_local', [ANY4, LO6], [false, false], '..EEEEEE', '..EEEEEE'],
  ['v4_any_v6_v4mapped_any', [ANY4, MAP_ANY], [false, false], '.EEEE.EE', '..EEE.EE'],
  ['v4_any_v6_v4mapped_local', [ANY4, MAP_LO], [false, false], '.EEEE.EE', '..EEE.EE'],
  ['v4_local_v6_any', [LO4, ANY6], [false, false], '.EEEE.EE', '..EEEEEE'],
  ['v4_local_v6_any_only', [LO4, ANY6], [false, true], '..EEEEEE', '..EEEEEE'],
  ['v4_local_v6_local', [LO4, LO6], [false, false], '..EEEEEE', '..EEEEEE'],
  ['v4_local_v6_v4mapped_any', [LO4, MAP_ANY], [false, false], '.EEEE.EE', '..EEE.EE'],
  ['v4_local_v6_v4mapped_local', [LO4, MAP_LO], [false, false], '.EEEE.EE', '..EEE.EE'],
  ['v6_any_v4_any', [ANY6, ANY4], [false, false], '.EEEEEEE', '..EEEEEE'],
  ['v6_any_only_v4_any', [ANY6, ANY4], [true, false], '..EEEEEE', '..EEEEEE'],
  ['v6_any_v4_local', [ANY6, LO4], [false, false], '.EEEEEEE', '..EEEEEE'],
  ['v6_any_only_v4_local', [ANY6, LO4], [true, false], '..EEEEEE', '..EEEEEE'],
  ['v6_local_v4_any', [LO6, ANY4], [false, false], '..EEEEEE', '..EEEEEE'],
  ['v6_local_v4_local', [LO6, LO4], [false, false], '..EEEEEE', '..EEEEEE'],
  ['v6_v4mapped_any_v4_any', [MAP_ANY, ANY4], [false, false], '.EEEE.EE', '..EEE.EE'],
  ['v6_v4mapped_any_v4_local', [MAP_ANY, LO4], [false, false], '.EEEE.EE', '..EEE.EE'],
  ['v6_v4mapped_local_v4_any', [MAP_LO, ANY4], [false, false], '.EEEE.EE', '..EEE.EE'],
  ['v6_v4mapped_local_v4_local', [MAP_LO, LO4], [false, false], '.EEEE.EE', '..EEE.EE'],
  ['v6_any_v6_any', [ANY6, ANY6], [false, false], '.EEEEEEE', '..EEEEEE'],
  ['v6_any_only_v6_any', [ANY6, ANY6], [true, false], '.E.EEEEE', '..EEEEEE'],
  ['v6_any_v6_any_only', [ANY6, ANY6], [false, true], '.EEEEEEE', '..EEEEEE'],
  ['v6_any_only_v6_any_only', [ANY6, ANY6], [true, true], '.E.EEEEE', '...EEEEE'],
  ['v6_any_v6_local', [ANY6, LO6], [false, false], '.EEEEEEE', '..EEEEEE'],
  ['v6_any_only_v6_local', [ANY6, LO6], [true, false], '.E.EEEEE', '...EEEEE'],
  ['v6_any_v6_v4mapped_any', [ANY6, MAP_ANY], [false, false], '.EEEEEEE', '..EEEEEE'],
  ['v6_any_only_v6_v4mapped_any', [ANY6, MAP_ANY], [true, false], '..EEEEEE', '..EEEEEE'],
  ['v6_any_v6_v4mapped_local', [ANY6, MAP_LO], [false, false], '.EEEEEEE', '..EEEEEE'],
  ['v6_any_only_v6_v4mapped_local', [ANY6, MAP_LO], [true, false], '..EEEEEE', '..EEEEEE'],
  ['v6_local_v6_any', [LO6, ANY6], [false, false], '.E.EEEEE', '..EEEEEE'],
  ['v6_local_v6_any_only', [LO6, ANY6], [false, true], '.E.EEEEE', '...EEEEE'],
  ['v6_local_v6_v4mapped_any', [LO6, MAP_ANY], [false, false], '..EEEEEE', '..EEEEEE'],
  ['v6_local_v6_v4mapped_local', [LO6, MAP_LO], [false, false], '..EEEEEE', '..EEEEEE'],
  ['v6_v4mapped_any_v6_any', [MAP_ANY, ANY6], [false, false], '.EEEE.EE', '..EEEEEE'],
  ['v6_v4mapped_any_v6_any_only', [MAP_ANY, ANY6], [false, true], '..EEEEEE', '..EEEEEE'],
  ['v6_v4mapped_any_v6_local', [MAP_ANY, LO6], [false, false], '..EEEEEE', '..EEEEEE'],
  ['v6_v4mapped_any_v6_v4mapped_local', [MAP_ANY, MAP_LO], [false, false], '.EEEE.EE', '..EEE.EE'],
  ['v6_v4mapped_loopback_v6_any', [MAP_LO, ANY6], [false, false], '.EEEE.EE', '..EEEEEE'],
  ['v6_v4mapped_loopback_v6_any_only', [MAP_LO, ANY6], [false, true], '..EEEEEE', '..EEEEEE'],
  ['v6_v4mapped_loopback_v6_local', [MAP_LO, LO6], [false, false], '..EEEEEE', '..EEEEEE'],
  ['v6_v4mapped_loopback_v6_v4mapped_any', [MAP_LO, MAP_ANY], [false, false], '.EEEE.EE', '..EEE.EE'],
];

describe('bind conflicts as Linux decides them', () => {
  test.each(BIND_WILDCARD)('bind_wildcard %s', (_name, [a0, a1], [o0, o1], plain, reuse) => {
    for (const [withReuse, want] of [[false, plain], [true, reuse]] as const) {
      const pt = table();
      const got: string[] = [];
      const first = ok(pt.bind({ address: a0, port: 0, v6only: o0, reuseAddr: withReuse }));
      got.push('.');
      const port = first.port;
      const r1 = pt.bind({ address: a1, port, v6only: o1, reuseAddr: withReuse });
      got.push(isErrno(r1) ? 'E' : '.');
      for (const addr of FOLLOWERS) {
        const r = pt.bind({ address: addr, port });
        if (isErrno(r)) expect(r).toBe('EADDRINUSE');
        got.push(isErrno(r) ? 'E' : '.');
      }
      expect(got.join(''), withReuse ? 'SO_REUSEADDR' : 'plain').toBe(want);
    }
  });

  test('addressesOverlap is symmetric', () => {
    const addrs = [ANY4, LO4, '10.0.0.1', ANY6, LO6, '2001:db8::1', MAP_ANY, MAP_LO];
    for (const a of addrs) {
      for (const b of addrs) {
        for (const [oa, ob] of [[false, false], [true, false], [false, true], [true, true]]) {
          const ka = parseIp(a)!;
          const kb = parseIp(b)!;
          expect(addressesOverlap(ka, oa!, kb, ob!), `${a} ${oa} / ${b} ${ob}`).toBe(addressesOverlap(kb, ob!, ka, oa!));
        }
      }
    }
  });

  test('SO_REUSEADDR: two sockets share a port until one listens; a listener blocks even SO_REUSEADDR binds', () => {
    const pt = table();
    const a = ok(pt.bind({ address: ANY4, port: 8080, reuseAddr: true }));
    const b = ok(pt.bind({ address: ANY4, port: 8080, reuseAddr: true }));
    expect(pt.bind({ address: ANY4, port: 8080 })).toBe('EADDRINUSE'); // a third without the flag
    expect(pt.listen(a)).toBe(true);
    expect(pt.listen(b)).toBe('EADDRINUSE');
    expect(b.state).toBe('bound');
    expect(pt.bind({ address: ANY4, port: 8080, reuseAddr: true })).toBe('EADDRINUSE');
    expect(pt.bind({ address: '10.0.0.1', port: 8080, reuseAddr: true })).toBe('EADDRINUSE');
    pt.release(a);
    expect(pt.listen(b)).toBe(true);
  });

  test('listen() again on a listener with children is no new check', () => {
    const pt = table();
    const l = ok(pt.bind({ address: ANY4, port: 8080 }));
    expect(pt.listen(l)).toBe(true);
    pt.inherit(l, '198.18.0.1');
    expect(pt.listen(l)).toBe(true);
  });

  test('without SO_REUSEADDR on both, the second bind fails', () => {
    const pt = table();
    ok(pt.bind({ address: ANY4, port: 8080, reuseAddr: true }));
    expect(pt.bind({ address: ANY4, port: 8080 })).toBe('EADDRINUSE');
    const pt2 = table();
    ok(pt2.bind({ address: ANY4, port: 8080 }));
    expect(pt2.bind({ address: ANY4, port: 8080, reuseAddr: true })).toBe('EADDRINUSE');
    // Disjoint addresses never conflict.
    ok(pt2.bind({ address: '2001:db8::1', port: 8080 }));
  });

  test('a restarted server: TIME-WAIT and ESTABLISHED children block a plain bind, not a SO_REUSEADDR one', () => {
    const pt = table();
    const listener = ok(pt.bind({ address: ANY4, port: 80, reuseAddr: true }));
    expect(pt.listen(listener)).toBe(true);
    const child1 = pt.inherit(listener, '198.18.0.1');
    const child2 = pt.inherit(listener, '198.18.0.1');
    expect(pt.owners(80)).toEqual([listener, child1, child2]);
    pt.setState(child1, 'time-wait');
    pt.release(listener); // the server exits; its children live on
    expect(pt.bind({ address: ANY4, port: 80 })).toBe('EADDRINUSE');
    const again = ok(pt.bind({ address: ANY4, port: 80, reuseAddr: true }));
    expect(pt.listen(again)).toBe(true);
    expect(pt.owners(80)).toEqual([child1, child2, again]);
  });

  test('a TIME-WAIT socket keeps its own SO_REUSEADDR flag (tw_reuse): without it, it blocks even a SO_REUSEADDR bind', () => {
    const pt = table();
    const listener = ok(pt.bind({ address: ANY4, port: 80 }));
    pt.listen(listener);
    const child = pt.inherit(listener, '198.18.0.1');
    pt.setState(child, 'time-wait');
    pt.release(listener);
    expect(pt.bind({ address: ANY4, port: 80, reuseAddr: true })).toBe('EADDRINUSE');
    pt.release(child); // TIME-WAIT over
    ok(pt.bind({ address: ANY4, port: 80 }));
  });

  test('device-bound sockets on different devices do not conflict', () => {
    const pt = table();
    ok(pt.bind({ address: ANY4, port: 53, device: 1 }));
    ok(pt.bind({ address: ANY4, port: 53, device: 2 }));
    expect(pt.bind({ address: ANY4, port: 53 })).toBe('EADDRINUSE');
    expect(pt.bind({ address: ANY4, port: 53, device: 2 })).toBe('EADDRINUSE');
  });

  test('EINVAL for what bind() refuses', () => {
    const pt = table();
    expect(pt.bind({ address: 'x', port: 1 })).toBe('EINVAL');
    expect(pt.bind({ address: ANY4, port: 65536 })).toBe('EINVAL');
    expect(pt.bind({ address: ANY4, port: -1 })).toBe('EINVAL');
    expect(pt.bind({ address: MAP_LO, port: 1, v6only: true })).toBe('EINVAL');
    const b = ok(pt.bind({ address: ANY4, port: 1 }));
    pt.release(b);
    pt.release(b); // twice is harmless
    expect(pt.listen(b)).toBe('EINVAL');
    expect(pt.isInUse(1)).toBe(false);
  });

  test('setReuseAddr after bind counts for later checks', () => {
    const pt = table();
    const a = ok(pt.bind({ address: ANY4, port: 9000 }));
    expect(pt.bind({ address: ANY4, port: 9000, reuseAddr: true })).toBe('EADDRINUSE');
    pt.setReuseAddr(a, true);
    ok(pt.bind({ address: ANY4, port: 9000, reuseAddr: true }));
  });
});

describe('bind to port 0 (inet_csk_find_open_port)', () => {
  test('odd ports, inside the range, all different until the range is used up: then EADDRINUSE', () => {
    const pt = table(3, { range: [1000, 1015] });
    const ports: number[] = [];
    for (let i = 0; i < 16; i++) ports.push(ok(pt.bind({ address: ANY4, port: 0 })).port);
    expect(new Set(ports).size).toBe(16);
    expect(ports.slice(0, 8).every((p) => p % 2 === 1)).toBe(true); // the odd half first
    expect(ports.slice(8).every((p) => p % 2 === 0)).toBe(true);
    expect(ports.every((p) => p >= 1000 && p <= 1015)).toBe(true);
    expect(pt.bind({ address: ANY4, port: 0 })).toBe('EADDRINUSE');
    // Another address family slot can still share nothing: IPv4 wildcard owners overlap "::" too.
    expect(pt.bind({ address: ANY6, port: 0 })).toBe('EADDRINUSE');
    // A unicast IPv6 address does not overlap IPv4 owners.
    expect(pt.bind({ address: '2001:db8::1', port: 0 })).not.toBe('EADDRINUSE');
  });

  test('SO_REUSEADDR sockets try the lower half of the range first', () => {
    const pt = table(5, { range: [2000, 2099] });
    for (let i = 0; i < 25; i++) {
      const p = ok(pt.bind({ address: ANY4, port: 0, reuseAddr: true })).port;
      expect(p).toBeGreaterThanOrEqual(2000);
      expect(p).toBeLessThan(2050);
    }
  });

  test('bind(0) never shares a port, even between SO_REUSEADDR sockets, unless ip_autobind_reuse', () => {
    const pt = table(9, { range: [3000, 3001] });
    ok(pt.bind({ address: ANY4, port: 0, reuseAddr: true }));
    ok(pt.bind({ address: ANY4, port: 0, reuseAddr: true }));
    expect(pt.bind({ address: ANY4, port: 0, reuseAddr: true })).toBe('EADDRINUSE');
    const relaxed = table(9, { range: [3000, 3001], autobindReuse: true });
    ok(relaxed.bind({ address: ANY4, port: 0, reuseAddr: true }));
    ok(relaxed.bind({ address: ANY4, port: 0, reuseAddr: true }));
    ok(relaxed.bind({ address: ANY4, port: 0, reuseAddr: true }));
    expect(relaxed.bind({ address: ANY4, port: 0 })).toBe('EADDRINUSE');
  });

  test('reserved ports are skipped', () => {
    const pt = table(2, { range: [4000, 4003], reserved: [4001, 4003] });
    const got = [ok(pt.bind({ address: ANY4, port: 0 })).port, ok(pt.bind({ address: ANY4, port: 0 })).port].sort();
    expect(got).toEqual([4000, 4002]);
    expect(pt.bind({ address: ANY4, port: 0 })).toBe('EADDRINUSE');
    ok(pt.bind({ address: ANY4, port: 4001 })); // explicit bind still may
  });
});

describe('connect() port selection (__inet_hash_connect, RFC 6056 algorithm 4)', () => {
  const req = { localAddress: '198.18.0.1', remoteAddress: '198.18.0.2', remotePort: 80 };

  test('defaults are Linux: 32768..60999, 2^16 perturbation slots', () => {
    expect(EPHEMERAL_RANGE).toEqual([32768, 60999]);
    const pt = new PortTable({ rand: seededRandom(1) });
    expect(pt.range).toEqual([32768, 60999]);
    const tuples = new TupleIndex<Conn>();
    const r = ok(pt.connect(req, tuples, { name: 'c' }));
    expect(r.binding.port).toBeGreaterThanOrEqual(32768);
    expect(r.binding.port).toBeLessThanOrEqual(60999);
    expect(r.binding.port % 2).toBe(0);
  });

  test('even ports first, then odd ones, every port once, then EADDRNOTAVAIL; the 4-tuple is hashed', () => {
    const pt = table(11, { range: [1000, 1031] });
    const tuples = new TupleIndex<Conn>();
    const ports: number[] = [];
    for (let i = 0; i < 32; i++) {
      const c = { name: `c${i}` };
      const r = ok(pt.connect(req, tuples, c));
      expect(r.recycled).toBeUndefined();
      expect(r.binding.state).toBe('connected');
      expect(tuples.lookupEstablished({ ...req, localPort: r.binding.port })).toBe(c);
      ports.push(r.binding.port);
    }
    expect(ports.slice(0, 16).every((p) => p % 2 === 0)).toBe(true);
    expect(ports.slice(16).every((p) => p % 2 === 1)).toBe(true);
    expect([...ports].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => 1000 + i));
    expect(pt.connect(req, tuples, { name: 'one too many' })).toBe('EADDRNOTAVAIL');
    // A different destination may share every one of those ports: only the 4-tuple must be unique.
    const other = ok(pt.connect({ ...req, remotePort: 443 }, tuples, { name: 'https' }));
    expect(other.binding.port).toBeGreaterThanOrEqual(1000);
    // So may the same destination on another VLAN.
    ok(pt.connect({ ...req, vlan: 43 }, tuples, { name: 'vlan 42' }));
  });

  test('a port some socket bind()ed is never chosen, even for another destination', () => {
    const pt = table(12, { range: [1000, 1003] });
    const tuples = new TupleIndex<Conn>();
    ok(pt.bind({ address: '10.9.9.9', port: 1000 })); // even unrelated addresses: the bucket is bind()'s
    ok(pt.bind({ address: ANY4, port: 1002, reuseAddr: true }));
    const got = [ok(pt.connect(req, tuples, { name: 'a' })).binding.port, ok(pt.connect(req, tuples, { name: 'b' })).binding.port];
    expect(got.sort()).toEqual([1001, 1003]);
    expect(pt.connect(req, tuples, { name: 'c' })).toBe('EADDRNOTAVAIL');
    expect(pt.connect({ ...req, remotePort: 81 }, tuples, { name: 'd' })).not.toBe('EADDRNOTAVAIL');
  });

  test('a connect()ed port blocks bind() on an overlapping address', () => {
    const pt = table(13, { range: [1000, 1000] });
    const tuples = new TupleIndex<Conn>();
    const r = ok(pt.connect(req, tuples, { name: 'a' }));
    expect(r.binding.port).toBe(1000);
    expect(pt.bind({ address: ANY4, port: 1000 })).toBe('EADDRINUSE');
    ok(pt.bind({ address: '198.18.0.9', port: 1000 }));
  });

  test('a TIME-WAIT 4-tuple is recycled only when the caller agrees (tcp_twsk_unique)', () => {
    const pt = table(14, { range: [1000, 1001] });
    const tuples = new TupleIndex<Conn>();
    const a = ok(pt.connect(req, tuples, { name: 'a' }));
    const b = ok(pt.connect(req, tuples, { name: 'b' }));
    const aConn = tuples.lookupEstablished({ ...req, localPort: a.binding.port })!;
    aConn.timeWait = true;
    pt.setState(a.binding, 'time-wait');
    expect(pt.connect(req, tuples, { name: 'c' })).toBe('EADDRNOTAVAIL');
    const c = ok(pt.connect(req, tuples, { name: 'c' }, (x) => x.timeWait === true));
    expect(c.binding.port).toBe(a.binding.port);
    expect(c.recycled).toBe(aConn);
    expect(tuples.lookupEstablished({ ...req, localPort: a.binding.port })?.name).toBe('c');
    expect(tuples.lookupEstablished({ ...req, localPort: b.binding.port })?.name).toBe('b');
  });

  test('IPv6 and v4-mapped connections', () => {
    const pt = table(15, { range: [1000, 1001] });
    const tuples = new TupleIndex<Conn>();
    const v6 = ok(pt.connect({ localAddress: '2001:db8::1', remoteAddress: '2001:db8::2', remotePort: 80 }, tuples, { name: 'v6' }));
    expect(tuples.lookupEstablished({ localAddress: '2001:db8::1', localPort: v6.binding.port, remoteAddress: '2001:db8::2', remotePort: 80 })?.name).toBe('v6');
    const mapped = ok(pt.connect({ localAddress: '::ffff:198.18.0.1', remoteAddress: '::ffff:198.18.0.2', remotePort: 80 }, tuples, { name: 'mapped' }));
    expect(tuples.lookupEstablished({ ...req, localPort: mapped.binding.port })?.name).toBe('mapped');
    expect(pt.connect({ localAddress: '198.18.0.1', remoteAddress: '2001:db8::2', remotePort: 80 }, tuples, { name: 'x' })).toBe('EINVAL');
    expect(pt.connect({ ...req, remotePort: 0 }, tuples, { name: 'x' })).toBe('EINVAL');
  });

  test('the first port is the one RFC 6056 algorithm 4 gives with Linux table_perturb', () => {
    // Recompute the choice independently: F = SipHash(local, remote, rport) under a key drawn first,
    // then the perturbation table drawn next, offset = (table[F.lo & mask] + F.hi) mod 2^32 mod
    // remaining, rounded down to even; the scan starts at low + offset.
    for (const seed of [1, 2, 3, 4, 5]) {
      const [low, high] = [20000, 20999];
      const rand = seededRandom(seed);
      const key = sipKeyFrom(rand);
      const perturb = Array.from({ length: 256 }, () => rand.nextU32());
      const msg = new Uint8Array(12);
      const dv = new DataView(msg.buffer);
      dv.setUint32(0, 0xc6120001);
      dv.setUint32(4, 0xc6120002);
      dv.setUint32(8, 80);
      const f = new Uint32Array(2);
      sipHash24(key, msg, 12, f);
      const remaining = high + 1 - low;
      const offset = ((((perturb[f[0]! & 255]! + f[1]!) >>> 0) % remaining) & ~1);
      const pt = new PortTable({ rand: seededRandom(seed), range: [low, high], perturbOrder: 8 });
      expect(ok(pt.connect(req, new TupleIndex<Conn>(), { name: 'c' })).binding.port).toBe(low + offset);
    }
  });

  test('same seed, same ports; the sequence depends on the key', () => {
    const run = (seed: number): number[] => {
      const pt = table(seed, { range: [5000, 5999] });
      const tuples = new TupleIndex<Conn>();
      return Array.from({ length: 20 }, (_, i) => ok(pt.connect(req, tuples, { name: String(i) })).binding.port);
    };
    expect(run(21)).toEqual(run(21));
    expect(run(21)).not.toEqual(run(22));
  });

  test('connectBound: a bound socket checks only its 4-tuple; a wildcard takes the source address', () => {
    const pt = table(16);
    const tuples = new TupleIndex<Conn>();
    const a = ok(pt.bind({ address: ANY4, port: 5000, reuseAddr: true }));
    const b = ok(pt.bind({ address: ANY4, port: 5000, reuseAddr: true }));
    const ra = ok(pt.connectBound(a, req, tuples, { name: 'a' }));
    expect(ra.binding.address).toBe('198.18.0.1');
    expect(a.state).toBe('connected');
    expect(tuples.lookupEstablished({ ...req, localPort: 5000 })?.name).toBe('a');
    expect(pt.connectBound(b, req, tuples, { name: 'b' })).toBe('EADDRNOTAVAIL');
    expect(b.address).toBe(ANY4); // unchanged after the failure
    ok(pt.connectBound(b, { ...req, remotePort: 81 }, tuples, { name: 'b' }));
    // Bound to a unicast address: that address is the source.
    const c = ok(pt.bind({ address: '198.18.0.7', port: 5001 }));
    ok(pt.connectBound(c, req, tuples, { name: 'c' }));
    expect(tuples.lookupEstablished({ ...req, localAddress: '198.18.0.7', localPort: 5001 })?.name).toBe('c');
  });

  test('property: connect() never takes a port in use and uses the whole range before EADDRNOTAVAIL', () => {
    type Op =
      | { kind: 'connect'; dst: number }
      | { kind: 'bind'; port: number; reuse: boolean }
      | { kind: 'bind0' }
      | { kind: 'release'; pick: number }
      | { kind: 'timewait'; pick: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 2 }).map<Op>((dst) => ({ kind: 'connect', dst })) },
      { weight: 1, arbitrary: fc.record({ port: fc.integer({ min: 100, max: 119 }), reuse: fc.boolean() }).map<Op>((r) => ({ kind: 'bind', ...r })) },
      { weight: 1, arbitrary: fc.constant<Op>({ kind: 'bind0' }) },
      { weight: 2, arbitrary: fc.nat().map<Op>((pick) => ({ kind: 'release', pick })) },
      { weight: 1, arbitrary: fc.nat().map<Op>((pick) => ({ kind: 'timewait', pick })) },
    );
    const dsts = [
      { remoteAddress: '198.18.0.2', remotePort: 80 },
      { remoteAddress: '198.18.0.2', remotePort: 443 },
      { remoteAddress: '198.18.0.3', remotePort: 80 },
    ];
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), fc.integer(), fc.constantFrom<[number, number]>([100, 115], [100, 101], [100, 100], [100, 106]), (ops, seed, range) => {
        const pt = new PortTable({ rand: seededRandom(seed), range, perturbOrder: 4 });
        const tuples = new TupleIndex<Conn>();
        const live: Array<{ b: PortBinding; dst?: number; c?: Conn }> = [];
        const viaBind = new Set<PortBinding>();
        for (const o of ops) {
          if (o.kind === 'connect') {
            const d = dsts[o.dst]!;
            const c: Conn = { name: `c${live.length}` };
            const tw = (x: Conn): boolean => x.timeWait === true;
            const before = new Map<number, Conn | undefined>();
            for (let p = range[0]; p <= range[1]; p++) before.set(p, tuples.lookupEstablished({ localAddress: '198.18.0.1', localPort: p, ...d }));
            const r = pt.connect({ localAddress: '198.18.0.1', ...d }, tuples, c, tw);
            if (isErrno(r)) {
              expect(r).toBe('EADDRNOTAVAIL');
              // Exhausted means: every port of the (even-sized part of the) range is bind()-owned
              // or has this 4-tuple taken by a connection that may not be recycled.
              const size = range[1] - range[0] + 1;
              if (size % 2 === 0 || size === 1) {
                for (let p = range[0]; p <= range[1]; p++) {
                  const owned = pt.owners(p).some((b) => viaBind.has(b));
                  const taken = before.get(p) !== undefined && before.get(p)!.timeWait !== true;
                  expect(owned || taken, `port ${p} was free`).toBe(true);
                }
              }
            } else {
              const p = r.binding.port;
              expect(p).toBeGreaterThanOrEqual(range[0]);
              expect(p).toBeLessThanOrEqual(range[1]);
              // Never a port some bind() holds, never a 4-tuple in use (unless recycled TIME-WAIT).
              expect(pt.owners(p).some((b) => viaBind.has(b))).toBe(false);
              const prev = before.get(p);
              if (prev !== undefined) {
                expect(prev.timeWait).toBe(true);
                expect(r.recycled).toBe(prev);
                const i = live.findIndex((x) => x.c === prev);
                pt.release(live[i]!.b);
                live.splice(i, 1);
              } else expect(r.recycled).toBeUndefined();
              expect(tuples.lookupEstablished({ localAddress: '198.18.0.1', localPort: p, ...d })).toBe(c);
              live.push({ b: r.binding, dst: o.dst, c });
            }
          } else if (o.kind === 'bind' || o.kind === 'bind0') {
            const r = pt.bind({ address: '0.0.0.0', port: o.kind === 'bind' ? o.port : 0, reuseAddr: o.kind === 'bind' && o.reuse });
            if (!isErrno(r)) {
              if (o.kind === 'bind0') {
                // bind(0) takes a port with no owner on an overlapping address: here, no owner at all.
                expect(pt.owners(r.port)).toEqual([r]);
              }
              viaBind.add(r);
              live.push({ b: r });
            } else expect(r).toBe('EADDRINUSE' satisfies Errno);
          } else if (live.length > 0) {
            const i = o.pick % live.length;
            const x = live[i]!;
            if (o.kind === 'release' || x.c === undefined) {
              pt.release(x.b);
              if (x.c !== undefined) tuples.unhash({ localAddress: '198.18.0.1', localPort: x.b.port, ...dsts[x.dst!]! }, x.c);
              viaBind.delete(x.b);
              live.splice(i, 1);
            } else {
              x.c.timeWait = true;
              pt.setState(x.b, 'time-wait');
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

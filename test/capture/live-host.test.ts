/**
 * src/capture/live-host.ts without a wire: what `attach` refuses before it opens anything, and the real
 * clock, randomness and MAC it makes. (The attached host itself is shown on veth pairs by
 * test/live/serve.test.ts and connect.test.ts.)
 */
import { networkInterfaces } from 'node:os';
import { expect, test } from 'vitest';
import { attach, canonicalAddress, cryptoRandom, interfaceOwning, randomLocalMac, realClock } from '../../src/capture/live-host.js';
import type { LiveError } from '../../src/capture/live.js';

function refused(r: ReturnType<typeof attach>): LiveError {
  if (r instanceof Promise) throw new Error('attach went ahead');
  return r;
}

// A loader that fails the test if attach gets as far as loading cap.
const noCap = (): unknown => {
  throw new Error('cap must not be loaded for a refused attach');
};

test('an address that an interface of this machine owns is refused, naming the interface', () => {
  const e = refused(attach('lo', { ip: '127.0.0.1', loader: noCap }));
  expect(e.code).toBe('bad-option');
  expect(e.message).toContain('127.0.0.1 belongs to interface lo');
  expect(e.message).toContain('RST');
});

test('an IPv6 address owned here is refused in any spelling', () => {
  const lo6 = (networkInterfaces().lo ?? []).find((a) => a.family === 'IPv6');
  if (lo6 === undefined) return; // IPv6 disabled on this machine: nothing to own
  expect(interfaceOwning('::1')).toBe('lo');
  expect(refused(attach('lo', { ip6: '0:0:0:0:0:0:0:1', loader: noCap })).message).toContain('::1 belongs to interface lo');
});

test('no address, a bad address and a multicast or malformed MAC are refused before anything opens', () => {
  expect(refused(attach('eth9', { loader: noCap })).message).toMatch(/no address/);
  expect(refused(attach('eth9', { ip: '198.18.0.300', loader: noCap })).message).toBe('"198.18.0.300" is not an IPv4 address');
  expect(refused(attach('eth9', { ip6: '198.18.0.3', loader: noCap })).message).toBe('"198.18.0.3" is not an IPv6 address');
  expect(refused(attach('eth9', { ip: '198.18.0.3', mac: '03:00:00:00:00:01', loader: noCap })).message).toMatch(/multicast MAC/);
  expect(refused(attach('eth9', { ip: '198.18.0.3', mac: '02:00:00:00:01', loader: noCap })).message).toMatch(/not a MAC address/);
});

test('without cap, attach says so (after the address checks pass)', () => {
  const e = refused(
    attach('lo', {
      ip: '198.18.0.3',
      loader: () => {
        throw Object.assign(new Error("Cannot find module 'cap'"), { code: 'MODULE_NOT_FOUND' });
      },
    }),
  );
  expect(e.code).toBe('cap-not-installed');
  expect(e.message).toContain('npm install cap');
});

test('addresses are compared in the canonical text the Host decodes to', () => {
  expect(canonicalAddress('2001:0db8:0:0::0003', 6)).toBe('2001:db8::3');
  expect(canonicalAddress('198.18.0', 4)).toBe(null);
  expect(canonicalAddress('2001:db8::3', 4)).toBe(null);
  expect(canonicalAddress('198.18.0.3', 4)).toBe('198.18.0.3');
});

test('the default MAC is a random locally administered unicast one', () => {
  const macs = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const m = randomLocalMac();
    expect(m).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    macs.add(m);
  }
  expect(macs.size).toBe(50);
});

test('the real clock is integer epoch microseconds that never go back; the random source varies', () => {
  const c = realClock();
  const before = Date.now() * 1000;
  let last = c.now();
  expect(Number.isInteger(last)).toBe(true);
  expect(Math.abs(last - before)).toBeLessThan(1_000_000);
  for (let i = 0; i < 10_000; i++) {
    const t = c.now();
    expect(t).toBeGreaterThanOrEqual(last);
    last = t;
  }
  const r = cryptoRandom();
  const words = new Set(Array.from({ length: 600 }, () => r.nextU32()));
  expect(words.size).toBeGreaterThan(590);
  for (const w of words) expect(w >>> 0).toBe(w);
});

/** The synack/testing matchers on a replay result: what they say when the result cannot answer. */
import { expect, test } from 'vitest';
import { replay } from '../../src/index.js';
import { installMatchers, toHaveDemuxed, toHaveSent, toHaveState } from '../../src/testing/index.js';
installMatchers(expect);

test('toHaveDemuxed needs the verdicts (frames: true)', () => {
  const r = replay('fixtures/refused-v4.pcap');
  expect(() => toHaveDemuxed(r, 3, { step: 'none' })).toThrow(/frames: true/);
});

test('a frame without a verdict, and a refused SYN', () => {
  const r = replay('fixtures/refused-v4.pcap', { frames: true });
  // Frames 1 and 2 are ARP; 3 is the SYN to the closed port, 4 the RST/ACK.
  expect(toHaveDemuxed(r, 1, {}).pass).toBe(false);
  expect(r).toHaveDemuxed(3, { step: 'none', action: 'reset', fd: null, state: 'CLOSED' });
  expect(r).not.toHaveDemuxed(3, { step: 'listener-any' });
});

test('toHaveState on a replay: the host must be named when two hosts have the descriptor', () => {
  const r = replay('fixtures/web-mail-v4.pcap', { frames: true, tablesAt: 52 });
  // Both the server and client 198.18.0.11 have an fd 3 (a listener; a connecting socket).
  expect(toHaveState(r, 3, 'LISTEN').message()).toMatch(/name the host/);
  expect(r).toHaveState(3, 'LISTEN', '198.18.0.1');
  expect(r).not.toHaveState(3, 'LISTEN', '198.18.0.11');
  expect(toHaveState(r, 99, 'LISTEN', '198.18.0.1').message()).toMatch(/fd 99 is not open on 198.18.0.1/);
  expect(() => toHaveSent(r, { flags: 'S' })).toThrow(/toHaveDemuxed/);
});

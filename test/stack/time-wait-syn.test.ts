/**
 * A new SYN on a TIME-WAIT 4-tuple whose port has no listener any more. Linux (tcp_v4_rcv, do_time_wait):
 * tcp_timewait_state_process says TCP_TW_SYN, no listener is found, and the case falls through to
 * TCP_TW_ACK: the TIME-WAIT socket stays and answers with its ACK (tcp_v4_timewait_ack). The client,
 * in SYN-SENT, finds that ACK unacceptable and resets; the RST ends the TIME-WAIT (tcp_rfc1337=0); the
 * client's next SYN finds nothing and is refused.
 * (With a listener, the SYN reopens the 4-tuple: see thousand.test.ts.)
 */
import { expect, test } from 'vitest';
import { Network } from '../../src/testing/network.js';
import { isErrno } from '../../src/socket/errno.js';
import type { TraceEvent } from '../../src/stack/trace.js';

test('a SYN to a TIME-WAIT 4-tuple without a listener gets the TIME-WAIT ACK, then RST kills it, then ECONNREFUSED', () => {
  const net = new Network({ seed: 3 });
  const server = net.attach({ name: 'server', mac: '02:00:00:00:00:01', ipv4: ['198.18.0.1'], trace: true });
  const client = net.attach({ name: 'client', mac: '02:00:00:00:00:02', ipv4: ['198.18.0.2'], trace: true });
  const s = server.sockets;
  const c = client.sockets;
  const l = s.socket('inet') as number;
  expect(s.bind(l, '0.0.0.0', 80)).toBe(0);
  expect(s.listen(l, 8)).toBe(0);
  const a = c.socket('inet') as number;
  expect(c.setsockopt(a, 'SO_REUSEADDR', 1)).toBe(0);
  expect(c.bind(a, '198.18.0.2', 40001)).toBe(0);
  expect(c.connect(a, '198.18.0.1', 80)).toBe('EINPROGRESS');
  net.advance(10_000);
  server.now();
  const acc = s.accept(l);
  if (isErrno(acc)) throw new Error(acc);
  // The server closes first and ends in TIME-WAIT; the client closes after end of stream; then the
  // server's listener goes away.
  expect(s.close(acc.fd)).toBe(0);
  net.advance(10_000);
  client.now();
  expect(c.recv(a)).toEqual(new Uint8Array(0));
  expect(c.close(a)).toBe(0);
  net.advance(10_000);
  expect(s.close(l)).toBe(0);
  expect(s.list().map((x) => x.state)).toEqual(['TIME-WAIT']);
  expect(c.list()).toEqual([]);

  const mark = server.trace.length;
  client.now();
  const b = c.socket('inet') as number;
  expect(c.setsockopt(b, 'SO_REUSEADDR', 1)).toBe(0);
  expect(c.bind(b, '198.18.0.2', 40001)).toBe(0);
  expect(c.connect(b, '198.18.0.1', 80)).toBe('EINPROGRESS');
  net.advance(100_000);

  const after = server.trace.slice(mark);
  const verdicts = after.filter((e): e is Extract<TraceEvent, { type: 'demux' }> => e.type === 'demux').map((e) => `${e.step} ${e.action} ${e.state ?? '-'}`);
  expect(verdicts).toEqual(['time-wait dropped TIME-WAIT', 'time-wait reset CLOSED', 'none reset -']);
  const sent = after.filter((e): e is Extract<TraceEvent, { type: 'frame-out' }> => e.type === 'frame-out' && e.kind === 'tcp').map((e) => e.segment?.flags);
  expect(sent).toEqual(['.', 'R.']);
  client.now();
  expect(c.getsockopt(b, 'SO_ERROR')).toBe(111); // ECONNREFUSED
  expect(s.list()).toEqual([]);
});

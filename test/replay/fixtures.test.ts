/**
 * Agreement with the kernel (issue 4, "Done when"): on every capture of fixtures/ (Linux 6.18, made by
 * tools/make-fixtures.sh, described in fixtures/MANIFEST.md) the connections, their Zeek states, the
 * ends' final states and the descriptors are what the scenario did. Descriptors follow the replay's model
 * (src/replay/hosts.ts): listeners take 3, 4, ... in the order they first answer; an accepted socket takes
 * the lowest free descriptor when its handshake completes and gives it back when its side sends a FIN or
 * a RST or takes a RST; a client socket the same from its SYN. Expected values are worked out by hand
 * from the MANIFEST's steps, in the comments.
 */
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ConnectionRecord, DemuxRecord, ReplayResult } from '../../src/replay/index.js';
import { FIXTURES_DIR, FIXTURE_FILES } from '../corpus.js';
import { replayZeek } from './helpers.js';

function run(name: string): ReplayResult {
  return replayZeek(path.join(FIXTURES_DIR, name), { frames: true });
}

function conn(r: ReplayResult, id: number): ConnectionRecord {
  const c = r.connections.find((x) => x.id === id);
  if (c === undefined) throw new Error(`no connection ${id}`);
  return c;
}

function verdict(r: ReplayResult, frame: number): DemuxRecord {
  const v = r.demux?.find((x) => x.frame === frame);
  if (v === undefined) throw new Error(`no verdict for frame ${frame}`);
  return v;
}

/** Fields of a connection a scenario decides. */
function shape(c: ConnectionRecord): Record<string, unknown> {
  return {
    client: c.client,
    server: c.server,
    state: c.state,
    listenerFd: c.listenerFd,
    serverFd: c.serverFd,
    clientFd: c.clientFd,
    clientState: c.clientState,
    serverState: c.serverState,
    handshake: c.handshake,
    rst: c.rst,
    fin: c.fin,
    anomalies: c.anomalies,
  };
}

test('every fixture is covered here', () => {
  const covered = ['web-mail-v4.pcap', 'web-mail-v6.pcap', 'refused-v4.pcap', 'backlog-overflow-v4.pcap', 'syn-timeout-v4.pcap', 'simultaneous-open-v4.pcap', 'listener-closed-v4.pcap', 'rst-abort-reuse-v4.pcap', 'ip-ext-linux.pcap'];
  expect([...FIXTURE_FILES].sort()).toEqual([...covered].sort());
});

describe('web-mail: 9 connections to :80 and :25 from 3 addresses', () => {
  // MANIFEST order of connections; who closes first; then the descriptors, step by step:
  //  listeners: :80 answers first (frame 4) -> fd 3, :25 -> fd 4.
  //  step 1: #1 #2 #3 accepted -> 5 6 7.  step 2: #2 server closes -> 6 free.  step 3: #1 client closes,
  //  the server's FIN follows -> 5 free.  step 4: #4..#9 accepted -> 5 6 8 9 10 11.
  //  Clients: .11 #1 3 (closed in step 3), #4 3, #7 4; .12 #2 3 (closed in step 2), #5 3, #8 4;
  //  .13 #3 3 (open until step 7), #6 4, #9 5.
  const plan: [client: string, port: number, clientCloses: boolean, serverFd: number, clientFd: number][] = [
    ['11:40001', 80, true, 5, 3],
    ['12:40002', 80, false, 6, 3],
    ['13:40003', 80, true, 7, 3],
    ['11:40004', 25, false, 5, 3],
    ['12:40005', 25, true, 6, 3],
    ['13:40006', 25, false, 8, 4],
    ['11:40007', 80, false, 9, 4],
    ['12:40008', 80, true, 10, 4],
    ['13:40009', 80, false, 11, 5],
  ];
  for (const [file, v6] of [['web-mail-v4.pcap', false], ['web-mail-v6.pcap', true]] as const) {
    test(file, () => {
      const r = run(file);
      expect(r.error).toBeNull();
      expect(r.frames).toMatchObject({ total: 96, tcp: 90, malformed: 0, badChecksum: 0, anomalies: 0 });
      const ep = (host: string, port: number): string => (v6 ? `[2001:db8::${host}]:${port}` : `198.18.0.${host}:${port}`);
      expect(r.connections.map(shape)).toEqual(
        plan.map(([c, port, clientCloses, serverFd, clientFd]) => {
          const [h, p] = c.split(':') as [string, string];
          return {
            client: ep(h, Number(p)),
            server: ep('1', port),
            state: 'SF',
            listenerFd: port === 80 ? 3 : 4,
            serverFd,
            clientFd,
            // The side that closes first ends in TIME-WAIT (the capture ends within 60 s), the other CLOSED.
            clientState: clientCloses ? 'TIME-WAIT' : 'CLOSED',
            serverState: clientCloses ? 'CLOSED' : 'TIME-WAIT',
            handshake: true,
            rst: { client: 0, server: 0 },
            fin: { client: 1, server: 1 },
            anomalies: [],
          };
        }),
      );
      // Zeek's history says who closed first: F before f when the client did.
      for (const [i, [, , clientCloses]] of plan.entries()) expect(r.connections[i]?.history).toBe(clientCloses ? 'ShADadFf' : 'ShADadfF');
      // The server's table at the end: both listeners, and the TIME-WAITs of the connections it closed first.
      const server = r.hosts.find((h) => h.host === (v6 ? '2001:db8::1' : '198.18.0.1'));
      expect(server?.sockets.filter((s) => s.state === 'LISTEN').map((s) => [s.fd, s.local])).toEqual([
        [3, '*:80'],
        [4, '*:25'],
      ]);
      expect(server?.sockets.filter((s) => s.state === 'TIME-WAIT').map((s) => s.connection).sort()).toEqual([2, 4, 6, 7, 9]);
    });
  }

  test('after frame 52 four accepted sockets share port 80 with the listener, told apart by 4-tuple and fd', () => {
    const r = replayZeek(path.join(FIXTURES_DIR, 'web-mail-v4.pcap'), { tablesAt: 52 });
    expect(r.hostsAt).toBe(52);
    const server = r.hosts.find((h) => h.host === '198.18.0.1');
    const port80 = server?.sockets.filter((s) => s.local.endsWith(':80') && s.state !== 'TIME-WAIT').map((s) => [s.fd, s.state, s.local, s.remote]);
    expect(port80).toEqual([
      [3, 'LISTEN', '*:80', '*:*'],
      [7, 'ESTABLISHED', '198.18.0.1:80', '198.18.0.13:40003'],
      [9, 'ESTABLISHED', '198.18.0.1:80', '198.18.0.11:40007'],
      [10, 'ESTABLISHED', '198.18.0.1:80', '198.18.0.12:40008'],
      [11, 'ESTABLISHED', '198.18.0.1:80', '198.18.0.13:40009'],
    ]);
  });
});

test('refused: SYN to a closed port, RST/ACK from the kernel (REJ)', () => {
  const r = run('refused-v4.pcap');
  expect(r.connections.map(shape)).toEqual([
    {
      client: '198.18.0.11:40001',
      server: '198.18.0.1:81',
      state: 'REJ',
      listenerFd: null,
      serverFd: null,
      clientFd: 3,
      clientState: 'CLOSED',
      serverState: 'CLOSED',
      handshake: false,
      rst: { client: 0, server: 1 },
      fin: { client: 0, server: 0 },
      anomalies: [],
    },
  ]);
  expect(verdict(r, 3)).toMatchObject({ host: '198.18.0.1', step: 'none', action: 'reset', state: 'CLOSED', sender: 'SYN-SENT' });
  // The RST acknowledges the SYN, so connect() fails with ECONNREFUSED: the socket is gone.
  expect(verdict(r, 4)).toMatchObject({ host: '198.18.0.11', step: 'established', action: 'aborted', state: 'CLOSED', sender: 'CLOSED' });
  expect(r.hosts).toEqual([]);
});

test('backlog overflow: SYNs the full queue dropped are retransmitted, then all six complete in accept order', () => {
  const r = run('backlog-overflow-v4.pcap');
  expect(r.connections).toHaveLength(6);
  // #1 and #2 complete at once (fds 4, 5); #3..#6 complete at ~4.2 s in that order (6..9). The server closes first on all six.
  expect(r.connections.map((c) => [c.state, c.listenerFd, c.serverFd, c.serverState, c.clientState])).toEqual(
    [4, 5, 6, 7, 8, 9].map((fd) => ['SF', 3, fd, 'TIME-WAIT', 'CLOSED']),
  );
  // 4 connections with 5 SYNs each: the 4 retransmissions of each reach the child in SYN-RECEIVED.
  const retrans = (r.demux ?? []).filter((v) => v.flags === 'S' && v.step === 'syn-received');
  expect(retrans).toHaveLength(16);
  expect(new Set(retrans.map((v) => v.connection))).toEqual(new Set([3, 4, 5, 6]));
  expect(retrans.every((v) => v.action === 'delivered' && v.state === 'SYN-RECEIVED' && v.fd === null && v.listenerFd === 3)).toBe(true);
  for (const c of r.connections) expect(c.history).toBe('ShAdDafF');
});

test('syn timeout: 8 SYNs to a silent address (S0)', () => {
  const r = run('syn-timeout-v4.pcap');
  expect(r.connections.map(shape)).toEqual([
    {
      client: '198.18.0.11:40001',
      server: '198.18.0.99:80',
      state: 'S0',
      listenerFd: null,
      serverFd: null,
      clientFd: 3,
      clientState: 'SYN-SENT',
      serverState: 'CLOSED',
      handshake: false,
      rst: { client: 0, server: 0 },
      fin: { client: 0, server: 0 },
      anomalies: [],
    },
  ]);
  expect(r.connections[0]?.frames).toBe(8);
  expect(r.demux?.map((v) => `${v.step}/${v.action}`)).toEqual(Array(8).fill('none/reset'));
  // At the end the client still waits in connect(): its socket holds fd 3.
  expect(r.hosts.map((h) => [h.host, h.sockets.map((s) => [s.fd, s.state])])).toEqual([['198.18.0.11', [[3, 'SYN-SENT']]]]);
});

test('simultaneous open: both SYNs before either is answered; no listener anywhere', () => {
  const r = run('simultaneous-open-v4.pcap');
  expect(r.connections.map(shape)).toEqual([
    {
      // A sent the first SYN (frame 3), so A is the client; B's descriptor is its own connect()'s.
      client: '198.18.0.1:5001',
      server: '198.18.0.11:5002',
      state: 'SF',
      listenerFd: null,
      serverFd: 3,
      clientFd: 3,
      clientState: 'TIME-WAIT',
      serverState: 'CLOSED',
      // tshark's definition holds: A's SYN, B's SYN-ACK acknowledging it, A's ACK of B's SYN-ACK.
      handshake: true,
      rst: { client: 0, server: 0 },
      fin: { client: 1, server: 1 },
      anomalies: [],
    },
  ]);
  expect(r.connections[0]?.history).toBe('SsAaDdFf');
  expect(r.hosts.flatMap((h) => h.sockets).filter((s) => s.state === 'LISTEN')).toEqual([]);
  // Frame 3 reached B before B's connect() (NFQUEUE held it past B's SYN on the wire): no socket yet.
  expect(verdict(r, 3)).toMatchObject({ step: 'none', action: 'reset' });
  // B's SYN reaches A in SYN-SENT: A goes to SYN-RECEIVED (RFC 9293 figure 8).
  expect(verdict(r, 4)).toMatchObject({ host: '198.18.0.1', step: 'established', fd: 3, state: 'SYN-RECEIVED', sender: 'SYN-SENT' });
  // Each SYN-ACK repeats its sender's ISN and acknowledges the other's: both ends ESTABLISHED.
  expect(verdict(r, 5)).toMatchObject({ host: '198.18.0.11', state: 'ESTABLISHED', sender: 'SYN-RECEIVED' });
  expect(verdict(r, 6)).toMatchObject({ host: '198.18.0.1', state: 'ESTABLISHED', sender: 'ESTABLISHED' });
  expect(r.frames.anomalies).toBe(0);
});

test('listener closed: the children still queued are reset (RSTR)', () => {
  const r = run('listener-closed-v4.pcap');
  // The model accepts at once, so the three children hold fds 4, 5, 6; the real application never called
  // accept() (the capture cannot show that); the resets free them.
  expect(r.connections.map((c) => [c.client, c.state, c.serverFd, c.rst, c.fin, c.clientState, c.serverState])).toEqual([
    ['198.18.0.11:40001', 'RSTR', 4, { client: 0, server: 1 }, { client: 0, server: 0 }, 'CLOSED', 'CLOSED'],
    ['198.18.0.12:40002', 'RSTR', 5, { client: 0, server: 1 }, { client: 0, server: 0 }, 'CLOSED', 'CLOSED'],
    ['198.18.0.13:40003', 'RSTR', 6, { client: 0, server: 1 }, { client: 0, server: 0 }, 'CLOSED', 'CLOSED'],
  ]);
  // Each RST (seq = the child's SND.NXT) is exactly what the client expects: recv() fails with ECONNRESET.
  for (const f of [20, 21, 22]) expect(verdict(r, f)).toMatchObject({ step: 'established', action: 'aborted', state: 'CLOSED', sender: 'CLOSED' });
  const server = r.hosts.find((h) => h.host === '198.18.0.1');
  expect(server?.sockets.map((s) => [s.fd, s.state])).toEqual([[3, 'LISTEN']]);
});

test('rst-abort-reuse: an abort, then the same 4-tuple reused with a higher ISN is a second connection', () => {
  const r = run('rst-abort-reuse-v4.pcap');
  expect(r.connections.map((c) => [c.id, c.client, c.server, c.firstFrame, c.lastFrame, c.state, c.serverFd, c.clientFd, c.rst, c.fin])).toEqual([
    [1, '198.18.0.11:40001', '198.18.0.1:80', 3, 10, 'RSTO', 4, 3, { client: 1, server: 0 }, { client: 0, server: 0 }],
    // The server's fd 4 was given back at the RST, so the new child gets it again; likewise the client's 3.
    [2, '198.18.0.11:40001', '198.18.0.1:80', 11, 20, 'SF', 4, 3, { client: 0, server: 0 }, { client: 1, server: 1 }],
  ]);
  expect(verdict(r, 10)).toMatchObject({ host: '198.18.0.1', action: 'aborted', state: 'CLOSED' });
  expect(verdict(r, 11)).toMatchObject({ host: '198.18.0.1', step: 'listener-any', action: 'cloned', listenerFd: 3, connection: 2 });
});

test('ip-ext-linux: no TCP at all (IPv6 extension headers and fragments only)', () => {
  const r = run('ip-ext-linux.pcap');
  expect(r.frames.tcp).toBe(0);
  expect(r.connections).toEqual([]);
});

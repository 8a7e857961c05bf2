/**
 * Demux verdicts frame by frame on a hand-checked capture (fixtures/web-mail-v4.pcap, MANIFEST: 9
 * connections of exactly 10 frames each: SYN, SYN-ACK, ACK; request, ACK; reply, ACK; FIN, FIN, ACK).
 * Frame numbers per connection are from `tshark -r fixtures/web-mail-v4.pcap -Y tcp -T fields -e
 * tcp.stream -e frame.number`; what each frame must do at its receiver is written out from the
 * scenario, independently of the code: the SYN reaches the listener on ANY and is cloned, the
 * handshake's ACK finds the child in SYN-RECEIVED and it is accepted, everything later is an
 * established 4-tuple, and the close runs FIN-WAIT-1 / CLOSE-WAIT / TIME-WAIT / LAST-ACK / CLOSED.
 * Then the other steps on captures where they happen: time-wait, listener-exact, none, late frames.
 */
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { replay } from '../../src/replay/index.js';
import type { DemuxRecord } from '../../src/replay/index.js';
import { openCapture } from '../../src/capture/index.js';
import { corpusPath, FIXTURES_DIR } from '../corpus.js';
import { replayZeek } from './helpers.js';

const WEB_MAIL = path.join(FIXTURES_DIR, 'web-mail-v4.pcap');

/** [frames (10), client address, client port, server port, client closes first, client fd, accepted fd] */
const CONNS: [number[], string, number, number, boolean, number, number][] = [
  [[3, 4, 5, 16, 17, 18, 19, 31, 32, 33], '198.18.0.11', 40001, 80, true, 3, 5],
  [[6, 9, 10, 20, 21, 22, 23, 24, 25, 26], '198.18.0.12', 40002, 80, false, 3, 6],
  [[11, 14, 15, 27, 28, 29, 30, 74, 75, 76], '198.18.0.13', 40003, 80, true, 3, 7],
  [[34, 35, 36, 52, 53, 54, 55, 56, 57, 58], '198.18.0.11', 40004, 25, false, 3, 5],
  [[37, 38, 39, 66, 67, 68, 69, 91, 92, 93], '198.18.0.12', 40005, 25, true, 3, 6],
  [[40, 41, 42, 77, 78, 79, 80, 81, 82, 83], '198.18.0.13', 40006, 25, false, 4, 8],
  [[43, 44, 45, 59, 60, 61, 62, 63, 64, 65], '198.18.0.11', 40007, 80, false, 4, 9],
  [[46, 47, 48, 70, 71, 72, 73, 94, 95, 96], '198.18.0.12', 40008, 80, true, 4, 10],
  [[49, 50, 51, 84, 85, 86, 87, 88, 89, 90], '198.18.0.13', 40009, 80, false, 5, 11],
];

type Expect = Pick<DemuxRecord, 'frame' | 'host' | 'step' | 'fd' | 'listenerFd' | 'connection' | 'action' | 'state' | 'sender' | 'socket' | 'flags'>;

function expectedVerdicts(): Expect[] {
  const out: Expect[] = [];
  CONNS.forEach(([frames, addr, port, sport, clientCloses, cfd, sfd], i) => {
    const id = i + 1;
    const lfd = sport === 80 ? 3 : 4;
    const client = `${addr}:${port}`;
    const server = `198.18.0.1:${sport}`;
    const toServer = (frame: number, flags: string, step: DemuxRecord['step'], fd: number | null, action: DemuxRecord['action'], state: string, sender: string): Expect => ({
      frame, host: '198.18.0.1', step, fd, listenerFd: lfd, connection: id, action, state, sender, socket: `${server} <- ${client}`, flags,
    } as Expect);
    const toClient = (frame: number, flags: string, fd: number | null, state: string, sender: string): Expect => ({
      frame, host: addr, step: 'established', fd, listenerFd: null, connection: id, action: 'delivered', state, sender, socket: `${client} <- ${server}`, flags,
    } as Expect);
    const f = (k: number): number => frames[k] as number;
    out.push(toServer(f(0), 'S', 'listener-any', null, 'cloned', 'SYN-RECEIVED', 'SYN-SENT'));
    out.push(toClient(f(1), 'S.', cfd, 'ESTABLISHED', 'SYN-RECEIVED'));
    out.push(toServer(f(2), '.', 'syn-received', sfd, 'accepted', 'ESTABLISHED', 'ESTABLISHED'));
    out.push(toServer(f(3), 'P.', 'established', sfd, 'delivered', 'ESTABLISHED', 'ESTABLISHED'));
    out.push(toClient(f(4), '.', cfd, 'ESTABLISHED', 'ESTABLISHED'));
    out.push(toClient(f(5), 'P.', cfd, 'ESTABLISHED', 'ESTABLISHED'));
    out.push(toServer(f(6), '.', 'established', sfd, 'delivered', 'ESTABLISHED', 'ESTABLISHED'));
    if (clientCloses) {
      // close() gives the fd back at once; the FIN's receiver still holds its fd until its own close.
      out.push(toServer(f(7), 'F.', 'established', sfd, 'delivered', 'CLOSE-WAIT', 'FIN-WAIT-1'));
      out.push(toClient(f(8), 'F.', null, 'TIME-WAIT', 'LAST-ACK'));
      out.push(toServer(f(9), '.', 'established', null, 'delivered', 'CLOSED', 'TIME-WAIT'));
    } else {
      out.push(toClient(f(7), 'F.', cfd, 'CLOSE-WAIT', 'FIN-WAIT-1'));
      out.push(toServer(f(8), 'F.', 'established', null, 'delivered', 'TIME-WAIT', 'LAST-ACK'));
      out.push(toClient(f(9), '.', null, 'CLOSED', 'TIME-WAIT'));
    }
  });
  return out.sort((a, b) => a.frame - b.frame);
}

function pick(v: DemuxRecord): Expect {
  const { frame, host, step, fd, listenerFd, connection, action, state, sender, socket, flags } = v;
  return { frame, host, step, fd, listenerFd, connection, action, state, sender, socket, flags };
}

describe('web-mail-v4, every TCP frame', () => {
  test('the 90 verdicts are the hand-written ones', () => {
    const r = replay(WEB_MAIL, { frames: true });
    expect(r.demux?.map(pick)).toEqual(expectedVerdicts());
    expect(r.demux?.some((v) => v.midstream || v.anomaly !== undefined || v.late)).toBe(false);
  });

  test('onVerdict streams the same verdicts without collecting them', () => {
    const seen: DemuxRecord[] = [];
    const r = replay(WEB_MAIL, { onVerdict: (v) => seen.push(v) });
    expect(r.demux).toBeUndefined();
    expect(seen.map(pick)).toEqual(expectedVerdicts());
  });

  test('--listen semantics: the mail listener bound to the server address is found by the exact pass', () => {
    const r = replay(WEB_MAIL, { frames: true, listen: ['198.18.0.1:25'] });
    const syns = (r.demux ?? []).filter((v) => v.flags === 'S');
    expect(syns.map((v) => [v.frame, v.step, v.listenerFd])).toEqual(
      CONNS.map(([frames, , , sport]) => [frames[0], sport === 25 ? 'listener-exact' : 'listener-any', sport === 25 ? 4 : 3]),
    );
    const server = r.hosts.find((h) => h.host === '198.18.0.1');
    expect(server?.sockets.filter((s) => s.state === 'LISTEN').map((s) => s.local)).toEqual(['*:80', '198.18.0.1:25']);
  });

  test('a listener named with --listen that never answers still gets its descriptor before the others', () => {
    const r = replay(WEB_MAIL, { listen: ['198.18.0.1:443'] });
    const server = r.hosts.find((h) => h.host === '198.18.0.1');
    expect(server?.sockets.filter((s) => s.state === 'LISTEN').map((s) => [s.fd, s.local])).toEqual([
      [3, '*:80'],
      [4, '*:25'],
      [5, '198.18.0.1:443'],
    ]);
    // The accepted sockets move up by one descriptor.
    expect(r.connections.map((c) => c.serverFd)).toEqual([6, 7, 8, 6, 7, 9, 10, 11, 12]);
  });

  test('a reader (not re-readable) infers listeners lazily: each at its first SYN-ACK', () => {
    const r = replayZeek(openCapture(WEB_MAIL), { frames: true });
    expect(r.listenerInference).toBe('lazy');
    // The first SYN to each port came before anyone knew of a listener there.
    expect(r.demux?.find((v) => v.frame === 3)).toMatchObject({ step: 'none', action: 'reset' });
    expect(r.demux?.find((v) => v.frame === 34)).toMatchObject({ step: 'none', action: 'reset' });
    // Later SYNs find them.
    expect(r.demux?.find((v) => v.frame === 6)).toMatchObject({ step: 'listener-any', action: 'cloned', listenerFd: 3 });
    // Descriptors differ from the pre-pass: :80's listener takes 3 at frame 4, so #1..#3 get 4, 5, 6; #2
    // and #1 close (5, 4 free); :25's listener takes 4 at frame 35, #4 gets 5, then 7, 8, 9, 10, 11.
    expect(r.connections.map((c) => c.serverFd)).toEqual([4, 5, 6, 5, 7, 8, 9, 10, 11]);
    expect(r.connections.map((c) => c.listenerFd)).toEqual([3, 3, 3, 4, 4, 4, 3, 3, 3]);
    expect(r.connections.map((c) => c.state)).toEqual(Array(9).fill('SF'));
  });
});

describe('the other demux steps', () => {
  test('time-wait: the copies of a FIN reach a TIME-WAIT socket (ndpi-rtsp-dup4-sll, every frame 4 times)', () => {
    const r = replay(corpusPath('ndpi-rtsp-dup4-sll.pcapng'), { frames: true });
    // 10.2.2.2:8554 closed first (FIN 273-276, acked 277-280: FIN-WAIT-2); the client's FIN, frame 281,
    // moves it to TIME-WAIT; the three copies of that FIN find the TIME-WAIT socket.
    expect(r.demux?.find((v) => v.frame === 281)).toMatchObject({ host: '10.2.2.2', step: 'established', state: 'TIME-WAIT', sender: 'LAST-ACK' });
    const tw = (r.demux ?? []).filter((v) => v.step === 'time-wait');
    expect(tw.map((v) => [v.frame, v.flags, v.host, v.action, v.state, v.fd])).toEqual([
      [282, 'F.', '10.2.2.2', 'delivered', 'TIME-WAIT', null],
      [283, 'F.', '10.2.2.2', 'delivered', 'TIME-WAIT', null],
      [284, 'F.', '10.2.2.2', 'delivered', 'TIME-WAIT', null],
    ]);
    // Its last ACK closes the client (LAST-ACK -> CLOSED); the copies find no socket: Linux would answer RST.
    expect([285, 286, 287, 288].map((f) => r.demux?.find((v) => v.frame === f)?.step)).toEqual(['established', 'none', 'none', 'none']);
  });

  test('a capture that starts mid-connection: both ends picked up, marked midstream', () => {
    const r = replay(corpusPath('ppp-pcapng-example.pcapng'), { frames: true });
    const first = r.demux?.find((v) => v.frame === 60);
    expect(first).toMatchObject({ step: 'established', midstream: true, connection: 2 });
    expect(r.connections.find((c) => c.id === 2)).toMatchObject({ midstream: true, clientState: 'ESTABLISHED', serverState: 'ESTABLISHED' });
  });

  test('one-sided capture: the SYN-ACK proves a client in SYN-SENT that the capture never shows', () => {
    const r = replay(corpusPath('zeek-tcp-one-sided-2745.pcap'), { frames: true });
    expect(r.demux?.[0]).toMatchObject({ frame: 1, flags: 'S.', step: 'established', state: 'ESTABLISHED', sender: 'SYN-RECEIVED', midstream: true });
    // The SYN-ACKs come from :1433 and :281, so those are listeners and the receivers are the clients.
    expect(r.connections.map((c) => [c.client, c.server, c.listenerFd, c.midstream])).toEqual([
      ['247.180.123.139:2745', '245.181.165.133:1433', 3, true],
      ['91.189.148.149:2745', '245.181.165.131:281', 3, true],
    ]);
  });

  test('SYN-ACK captured before its SYN (zeek-tcp-handshake-reorder): the SYN is the same connection', () => {
    const r = replay(corpusPath('zeek-tcp-handshake-reorder.pcap'), { frames: true });
    expect(r.connections).toHaveLength(1);
    expect(r.demux?.slice(0, 3).map((v) => [v.frame, v.flags, v.step, v.action])).toEqual([
      [1, 'S.', 'established', 'delivered'],
      [2, 'S', 'syn-received', 'delivered'],
      [3, '.', 'syn-received', 'accepted'],
    ]);
    expect(r.frames.anomalies).toBe(0);
  });

  test('an injected RST that does not acknowledge the SYN is dropped (zeek-tcp-rst-inject-rae)', () => {
    const r = replay(corpusPath('zeek-tcp-rst-inject-rae.pcap'), { frames: true });
    expect(r.demux?.[1]).toMatchObject({ frame: 2, flags: 'R.e', host: '1.2.0.2', action: 'dropped', state: 'SYN-SENT' });
    // The "server" never sent that RST: it goes on with its SYN-ACK, which says so.
    expect(r.demux?.[2]).toMatchObject({ frame: 3, action: 'delivered', state: 'ESTABLISHED', sender: 'SYN-RECEIVED', anomaly: 'sent-after-reset' });
  });

  test('asymmetric VLAN tagging stays one connection (sv-syn-retransmit-with-ts: requests tagged 3136, replies untagged)', () => {
    const r = replay(corpusPath('sv-syn-retransmit-with-ts.pcap'), { frames: true });
    expect(r.connections.map((c) => [c.vlan, c.vlanReply, c.frames])).toEqual([[[3136], [], 254]]);
    expect((r.demux ?? []).filter((v) => v.anomaly !== undefined)).toEqual([]);
  });

  test('bad checksums from offload count but still drive both ends (tcpdump-resp-1-benchmark-sll)', () => {
    const r = replay(corpusPath('tcpdump-resp-1-benchmark-sll.pcap'), { frames: true });
    expect(r.frames.badChecksum).toBe(150);
    expect(r.demux?.every((v) => v.badChecksum === true)).toBe(true);
    expect(r.connections.every((c) => c.clientState === 'TIME-WAIT' || c.serverState === 'TIME-WAIT')).toBe(true);
  });
});

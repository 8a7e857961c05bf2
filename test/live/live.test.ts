/**
 * src/capture/live.ts on a real wire: a veth pair between two network namespaces (netns.ts), a real
 * Linux kernel on end `b`, and synack's capture on end `a`.
 *
 * Where synack's process sits: the capture runs in a child, `ip netns exec sy-live-a node agent.js`
 * (agent.ts, transpiled from the current sources by build.ts), driven over an IPC channel. That keeps
 * everything inside the two namespaces (nothing is added to the root namespace, so a crashed run
 * leaves nothing a name-based teardown cannot remove), keeps cap's handles out of the vitest worker (a
 * capture left open there would hang it), and lets a test watch a process exit by itself, which is one
 * of the properties to show. The test process builds and checks frames; the child only captures and
 * sends.
 *
 * Traffic comes from the kernels: python3 sockets (ICMP echo sockets, TCP connect, UDP) inside the
 * namespaces; tcpdump on the sender is the oracle for "arrived byte-exact". Addresses: 198.18.0.0/15
 * and 2001:db8::/32 only, inside the pair.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { capLoadError, isLiveError, openLive, LIVE_MIN_BUFFER_SIZE } from '../../src/capture/live.js';
import type { LiveError } from '../../src/capture/live.js';
import { openCaptureBytes } from '../../src/capture/reader.js';
import { bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import { finishChecksum, sum16 } from '../../src/wire/checksum.js';
import { emitFrame, parseFrame } from '../../src/wire/frame.js';
import type { FrameRepr } from '../../src/wire/frame.js';
import { EtherType, LinkType } from '../../src/wire/linktype.js';
import { ArpOperation } from '../../src/wire/arp.js';
import { Agent, sleep } from './agent-client.js';
import type { FrameEvent } from './agent.js';
import { buildForChild, removeBuild } from './build.js';
import { ADDR, nsRun, nsSpawn, nsTry, useNsPair } from './netns.js';

const pair = useNsPair('live', { ipv6: true });
// Addresses no interface owns, each with a locally administered MAC: synack's side of the wire.
const HOST4 = ADDR.spare4; // answered by the test through the capture (ARP, ICMP echo)
const HOST6 = ADDR.spare6;
const HOST_MAC = ADDR.spareMac;
const SINK4 = '198.18.0.4'; // nobody answers; the peer has a static neighbour entry for it
const SINK_MAC = '02:00:00:00:00:04';

let build: { js: string; dir: string };
let agent: Agent;

beforeAll(async () => {
  const p = pair();
  build = buildForChild('test/live/agent.ts');
  nsRun(p.b.ns, ['ip', 'neigh', 'replace', SINK4, 'lladdr', SINK_MAC, 'dev', p.b.ifname]);
  agent = await Agent.start(p.a.ns, build.js);
});

afterAll(() => {
  agent?.kill();
  if (build !== undefined) removeBuild(build.dir);
});

// ---------------------------------------------------------------------------------------------------
// Traffic from the kernels

const PY_PING = `
import socket, sys
fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
proto = socket.IPPROTO_ICMPV6 if fam == socket.AF_INET6 else socket.IPPROTO_ICMP
req = 128 if fam == socket.AF_INET6 else 8
s = socket.socket(fam, socket.SOCK_DGRAM, proto)
s.settimeout(float(sys.argv[3]))
got = 0
for i in range(int(sys.argv[2])):
    s.sendto(bytes([req, 0, 0, 0, 0, 0, 0, i + 1]) + b'synack live ping', (sys.argv[1], 0))
    try:
        s.recv(2000); got += 1
    except socket.timeout:
        pass
print(got)
sys.exit(0 if got == int(sys.argv[2]) else 1)
`;

const PY_UDP = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i, size in enumerate(sys.argv[2].split(',')):
    if i: time.sleep(0.03)
    s.sendto(bytes([0x41 + i]) * int(size), (sys.argv[1], 9))
`;

const PY_SYN = `
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.3)
except OSError:
    pass
`;

/** Runs python3 code inside `ns` without blocking the event loop (the agent's frames keep arriving). */
function py(ns: string, code: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = nsSpawn(ns, ['python3', '-c', code, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((res) => child.on('exit', (status) => res({ status, stdout, stderr })));
}

/** tcpdump on the sender's end: the oracle for what went on the wire. */
async function startTcpdump(ns: string, ifname: string, filter: string): Promise<() => Promise<Uint8Array>> {
  const child = nsSpawn(ns, ['tcpdump', '-i', ifname, '-Q', 'out', '--immediate-mode', '-U', '-n', '-s', '0', '-w', '-', filter], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d));
  let err = '';
  await new Promise<void>((res, rej) => {
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (err.includes('listening on')) res();
    });
    child.on('exit', () => rej(new Error(`tcpdump exited: ${err}`)));
  });
  return async () => {
    const exited = new Promise((res) => child.on('exit', res));
    child.kill('SIGINT');
    await exited;
    return new Uint8Array(Buffer.concat(chunks));
  };
}

function pcapFrames(file: Uint8Array): { hex: string; timeUs: number }[] {
  const r = openCaptureBytes(file, { name: 'tcpdump' });
  const out: { hex: string; timeUs: number }[] = [];
  for (let f = r.next(); f !== null; f = r.next()) {
    out.push({ hex: hex(f.bytes.u8.subarray(f.offset, f.offset + f.capLen)), timeUs: f.tsSec * 1e6 + Math.floor(f.tsNsec / 1000) });
  }
  expect(r.error).toBeNull();
  return out;
}

function parsed(f: FrameEvent): FrameRepr {
  const u8 = fromHex(f.hex);
  return parseFrame(f.linkType, bytesOf(u8), 0, u8.length);
}

const epochUs = (): number => Date.now() * 1000;

// ---------------------------------------------------------------------------------------------------
// Frames synack builds with src/wire

function ethernet(dst: string, etherType: number): FrameRepr['link'] {
  return { kind: 'ethernet', header: { dst, src: HOST_MAC, etherType } };
}

function arpReply(req: FrameRepr): Uint8Array | null {
  if (req.net.kind !== 'arp' || req.net.arp.kind !== 'ethernet-ipv4') return null;
  const a = req.net.arp;
  if (a.operation !== ArpOperation.REQUEST || a.targetIp !== HOST4) return null;
  return emitFrame({
    linkType: LinkType.ETHERNET,
    link: ethernet(a.senderMac, EtherType.ARP),
    vlans: [],
    net: { kind: 'arp', arp: { kind: 'ethernet-ipv4', operation: ArpOperation.REPLY, senderMac: HOST_MAC, senderIp: HOST4, targetMac: a.senderMac, targetIp: a.senderIp } },
  });
}

/** An ICMP echo reply to `req`; with `breakChecksum`, one whose ICMP checksum is off by one. */
function echoReply4(req: FrameRepr, breakChecksum = false): Uint8Array | null {
  if (req.link.kind !== 'ethernet' || req.net.kind !== 'ipv4' || req.net.payload.kind !== 'raw') return null;
  const ip = req.net.header;
  const icmp = req.net.payload.bytes.slice();
  if (ip.protocol !== 1 || ip.dst !== HOST4 || icmp[0] !== 8) return null;
  icmp[0] = 0; // echo reply (RFC 792)
  icmp[2] = 0;
  icmp[3] = 0;
  const sum = finishChecksum(sum16(bytesOf(icmp), 0, icmp.length)) ^ (breakChecksum ? 1 : 0);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  return emitFrame({
    linkType: LinkType.ETHERNET,
    link: ethernet(req.link.header.src, EtherType.IPV4),
    vlans: [],
    net: {
      kind: 'ipv4',
      header: { dscp: 0, ecn: 0, identification: 0x5a5a, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: 1, src: HOST4, dst: ip.src, options: [], payloadLength: icmp.length },
      payload: { kind: 'raw', bytes: icmp },
    },
  });
}

/** A solicited Neighbor Advertisement (RFC 4861 §7.2.4) or an ICMPv6 echo reply, as the request needs. */
function answer6(req: FrameRepr): Uint8Array | null {
  if (req.link.kind !== 'ethernet' || req.net.kind !== 'ipv6' || req.net.payload.kind !== 'icmpv6') return null;
  const ip = req.net.header;
  const m = req.net.payload.icmpv6;
  const header = (payloadLength: number, hopLimit: number) => ({
    trafficClass: 0, flowLabel: 0, hopLimit, src: HOST6, dst: ip.src, extensions: [], protocol: 58, payloadLength,
  });
  if (m.kind === 'neighbor-solicitation' && m.target === HOST6) {
    return emitFrame({
      linkType: LinkType.ETHERNET,
      link: ethernet(req.link.header.src, EtherType.IPV6),
      vlans: [],
      net: {
        kind: 'ipv6',
        header: header(32, 255),
        payload: { kind: 'icmpv6', icmpv6: { kind: 'neighbor-advertisement', router: false, solicited: true, override: true, target: HOST6, options: [{ kind: 'target-link-address', mac: HOST_MAC }] } },
      },
    });
  }
  if (m.kind === 'other' && m.type === 128 && ip.dst === HOST6) {
    return emitFrame({
      linkType: LinkType.ETHERNET,
      link: ethernet(req.link.header.src, EtherType.IPV6),
      vlans: [],
      net: { kind: 'ipv6', header: header(4 + m.body.length, 64), payload: { kind: 'icmpv6', icmpv6: { kind: 'other', type: 129, code: 0, body: m.body } } },
    });
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------

describe('live capture on a veth pair', () => {
  test('frames the peer kernel sends arrive byte-exact, as tcpdump saw them leave, timed on arrival', async () => {
    const p = pair();
    const opened = await agent.open('rx', p.a.ifname, { filter: 'icmp or tcp or udp' });
    expect(opened.linkType).toBe(LinkType.ETHERNET);
    expect(opened.mtu).toBe(1500);
    expect(opened.mac).toBe(p.a.mac);
    const stop = await startTcpdump(p.b.ns, p.b.ifname, 'icmp or tcp or udp');
    const t0 = epochUs();
    // ICMP echo to a's kernel, a TCP SYN and a near-MTU UDP datagram to an address nobody owns.
    expect((await py(p.b.ns, PY_PING, ADDR.a4, '2', '2')).status).toBe(0);
    await py(p.b.ns, PY_SYN, SINK4, '7');
    await py(p.b.ns, PY_UDP, SINK4, `${1500 - 28}`);
    await agent.until(() => agent.list('rx').length >= 4, 3000, '4 frames');
    const sent = pcapFrames(await stop());
    const t1 = epochUs();
    const got = agent.list('rx');
    await agent.request({ op: 'close', name: 'rx' });

    expect(sent.length).toBe(4); // 2 echo requests, 1 SYN, 1 UDP datagram
    expect(got.map((f) => f.hex)).toEqual(sent.map((f) => f.hex));
    const syn = parsed(got[2] as FrameEvent);
    expect(syn.net.kind === 'ipv4' && syn.net.payload.kind === 'tcp' && syn.net.payload.tcp.dstPort).toBe(7);
    expect((got[3] as FrameEvent).capLen).toBe(1514);
    got.forEach((f, i) => {
      expect(f.index).toBe(i + 1);
      expect(f.capLen).toBe(f.hex.length / 2);
      expect(f.origLen).toBe(f.capLen);
      expect(f.truncated).toBe(false);
      expect(f.linkType).toBe(LinkType.ETHERNET);
      // The clock is read at the event: inside the test's window, in order, close to the sender's stamp.
      expect(f.timeUs).toBeGreaterThanOrEqual(t0 - 1000);
      expect(f.timeUs).toBeLessThanOrEqual(t1 + 1000);
      if (i > 0) expect(f.timeUs).toBeGreaterThanOrEqual((got[i - 1] as FrameEvent).timeUs);
      expect(Math.abs(f.timeUs - (sent[i] as { timeUs: number }).timeUs)).toBeLessThan(250_000);
      expect(f.tsSec * 1e6 + f.tsNsec / 1000).toBe(f.timeUs);
    });
  });

  test("direction 'in' leaves out the local kernel's own frames; 'inout' has them", async () => {
    const p = pair();
    const inOnly = await agent.open('in', p.a.ifname, { filter: 'icmp' });
    const both = await agent.open('inout', p.a.ifname, { filter: 'icmp', direction: 'inout' });
    expect(inOnly.filter).toBe(`(not ether src ${p.a.mac}) and (icmp)`);
    expect(both.filter).toBe('icmp');
    // a's kernel pings b: the requests leave a (outgoing), the replies come in.
    expect((await py(p.a.ns, PY_PING, ADDR.b4, '2', '2')).status).toBe(0);
    await agent.until(() => agent.list('inout').length >= 4 && agent.list('in').length >= 2, 3000, 'pings in both captures');
    await sleep(100); // anything wrongly let through would be here by now
    await agent.request({ op: 'close', name: 'in' });
    await agent.request({ op: 'close', name: 'inout' });
    const kinds = (list: FrameEvent[]) =>
      list.map((f) => {
        const r = parsed(f);
        return r.link.kind === 'ethernet' && r.net.kind === 'ipv4' && r.net.payload.kind === 'raw'
          ? `${r.link.header.src} ${r.net.payload.bytes[0] === 8 ? 'request' : 'reply'}`
          : 'other';
      });
    expect(kinds(agent.list('in'))).toEqual([`${p.b.mac} reply`, `${p.b.mac} reply`]);
    expect(kinds(agent.list('inout'))).toEqual([`${p.a.mac} request`, `${p.b.mac} reply`, `${p.a.mac} request`, `${p.b.mac} reply`]);
  });

  test("BPF `inbound` loses the first frame after open (libpcap filters it in userland), which is why 'in' does not use it", async () => {
    const p = pair();
    await agent.open('inbound', p.a.ifname, { filter: 'inbound and udp', direction: 'inout' });
    await agent.open('mac', p.a.ifname, { filter: 'udp' });
    await py(p.b.ns, PY_UDP, SINK4, '20,21,22');
    await agent.until(() => agent.list('mac').length >= 3, 3000, '3 datagrams');
    await sleep(150);
    await agent.request({ op: 'close', name: 'inbound' });
    await agent.request({ op: 'close', name: 'mac' });
    const all = agent.list('mac').map((f) => f.hex);
    expect(all.length).toBe(3);
    // If this fails because `inbound` now delivers all three, libpcap fixed it and 'in' could use it.
    expect(agent.list('inbound').map((f) => f.hex)).toEqual(all.slice(1));
  });

  test('cap reuses one buffer: a frame kept without copying changes with the next one, copyFrame keeps it', async () => {
    const p = pair();
    await agent.open('reuse', p.a.ifname, { filter: 'udp' }, { probeReuse: true });
    await py(p.b.ns, PY_UDP, SINK4, '30,60');
    await agent.until(() => agent.list('reuse').length >= 2, 3000, '2 datagrams');
    await agent.request({ op: 'close', name: 'reuse' });
    const [first, second] = agent.list('reuse') as [FrameEvent, FrameEvent];
    expect(first.hex).not.toBe(second.hex.slice(0, first.hex.length));
    expect(second.prev).toBeDefined();
    // The uncopied view of frame 1, read during frame 2, holds frame 2's bytes: same memory.
    expect(second.prev?.viewHex).toBe(second.hex.slice(0, first.hex.length));
    expect(second.prev?.viewHex).not.toBe(first.hex);
    expect(second.prev?.copyHex).toBe(first.hex);
    // And the frame object is the same one each time.
    expect(second.prev?.sameObject).toBe(true);
  });

  test('snaplen cuts a longer frame and marks it truncated', async () => {
    const p = pair();
    await agent.open('snap', p.a.ifname, { filter: 'udp', snaplen: 64 });
    await py(p.b.ns, PY_UDP, SINK4, '200,10');
    await agent.until(() => agent.list('snap').length >= 2, 3000, '2 datagrams');
    const closed = await agent.request({ op: 'close', name: 'snap' });
    const [long, short] = agent.list('snap') as [FrameEvent, FrameEvent];
    expect([long.capLen, long.hex.length / 2, long.truncated]).toEqual([64, 64, true]);
    expect([short.capLen, short.truncated]).toEqual([14 + 20 + 8 + 10, false]);
    expect(closed.stats).toMatchObject({ frames: 2, truncated: 1, bytes: 64 + 52 });
  });

  test('frames built with src/wire and sent through the capture are accepted by the peer kernel (ARP, ICMP echo)', async () => {
    const p = pair();
    await agent.open('host4', p.a.ifname, { filter: 'arp or icmp' });
    let broken = false;
    const sendErrors: unknown[] = [];
    agent.listen('host4', (f) => {
      const req = parsed(f);
      const reply = arpReply(req) ?? echoReply4(req, broken);
      if (reply !== null) void agent.send('host4', reply).then((r) => !r.ok && sendErrors.push(r.error));
    });
    // The peer asks who has HOST4 (an address a's kernel does not own), learns HOST_MAC, pings it.
    const ok = await py(p.b.ns, PY_PING, HOST4, '2', '2');
    expect(ok.stdout.trim()).toBe('2');
    expect(ok.status).toBe(0);
    const neigh = nsTry(p.b.ns, ['ip', 'neigh', 'show', HOST4, 'dev', p.b.ifname]).stdout;
    expect(neigh).toContain(`lladdr ${HOST_MAC}`);
    expect(neigh).not.toMatch(/FAILED|INCOMPLETE/);
    // Control: the same reply with a wrong checksum is dropped by the peer kernel (rx offload is off).
    broken = true;
    const bad = await py(p.b.ns, PY_PING, HOST4, '1', '0.5');
    expect(bad.stdout.trim()).toBe('0');
    const closed = await agent.request({ op: 'close', name: 'host4' });
    agent.listen('host4', () => {});
    expect(sendErrors).toEqual([]);
    expect((closed.stats as { sent: number }).sent).toBe(4); // ARP reply, 2 echo replies, 1 broken one
  });

  test('IPv6: a Neighbor Advertisement and an echo reply built with src/wire are accepted', async () => {
    const p = pair();
    await agent.open('host6', p.a.ifname, { filter: 'icmp6' });
    agent.listen('host6', (f) => {
      const reply = answer6(parsed(f));
      if (reply !== null) void agent.send('host6', reply);
    });
    const ok = await py(p.b.ns, PY_PING, HOST6, '2', '2');
    expect(ok.stdout.trim()).toBe('2');
    const neigh = nsTry(p.b.ns, ['ip', '-6', 'neigh', 'show', HOST6, 'dev', p.b.ifname]).stdout;
    expect(neigh).toContain(`lladdr ${HOST_MAC}`);
    await agent.request({ op: 'close', name: 'host6' });
    agent.listen('host6', () => {});
  });

  test('send refuses a frame over MTU + link header, and one shorter than the link header', async () => {
    const p = pair();
    await agent.open('tx', p.a.ifname, { filter: 'arp' });
    const frame = (len: number, tagged = false): Uint8Array => {
      const u8 = new Uint8Array(len);
      u8.set(fromHex(SINK_MAC.replace(/:/g, '')), 0);
      u8.set(fromHex(HOST_MAC.replace(/:/g, '')), 6);
      // IEEE 802 local experimental EtherType; behind an 802.1Q tag when tagged.
      u8.set(tagged ? [0x81, 0x00, 0x00, 0x05, 0x88, 0xb5] : [0x88, 0xb5], 12);
      return u8;
    };
    expect((await agent.send('tx', frame(1514))).ok).toBe(true);
    const big = await agent.send('tx', frame(1515));
    expect(big.ok).toBe(false);
    expect((big.error as LiveError).code).toBe('too-big');
    expect((big.error as LiveError).message).toBe(
      `cannot send a 1515-byte frame on ${p.a.ifname}: the MTU is 1500 (/sys/class/net/${p.a.ifname}/mtu), so a frame holds at most 1514 bytes with its link header`,
    );
    expect((await agent.send('tx', frame(1518, true))).ok).toBe(true);
    expect(((await agent.send('tx', frame(1519, true))).error as LiveError).code).toBe('too-big');
    const short = await agent.send('tx', new Uint8Array(10));
    expect((short.error as LiveError).code).toBe('too-short');
    const closed = await agent.request({ op: 'close', name: 'tx' });
    expect(closed.stats).toMatchObject({ sent: 2, sentBytes: 1514 + 1518, sendErrors: 3 });
  });

  test('close is idempotent and safe inside the callback; send after close is refused; reopening takes a new capture', async () => {
    const p = pair();
    await agent.open('once', p.a.ifname, { filter: 'udp' }, { closeAfter: 1 });
    // cap's own object, closed and opened again, next to a fresh capture (what openLive does).
    expect((await agent.request({ op: 'raw-reopen', name: 'stale', iface: p.a.ifname })).ok).toBe(true);
    await agent.open('fresh', p.a.ifname, { filter: 'udp' });
    await py(p.b.ns, PY_UDP, SINK4, '40,41,42');
    await agent.until(() => agent.list('fresh').length >= 3, 3000, '3 datagrams');
    await sleep(100);
    expect(agent.list('once').length).toBe(1); // closed from inside its first callback
    const once = await agent.request({ op: 'stats', name: 'once' });
    expect(once.closed).toBe(true);
    expect(((await agent.request({ op: 'raw-count', name: 'stale' })).count as number)).toBe(0);

    const twice = await agent.request({ op: 'close', name: 'fresh', twice: true });
    expect(twice.ok).toBe(true);
    expect(twice.closed).toBe(true);
    expect(twice.stats).toMatchObject({ frames: 3 });
    const after = await agent.send('fresh', new Uint8Array(60));
    expect((after.error as LiveError).code).toBe('closed');
    // A new capture on the same interface works.
    await agent.open('again', p.a.ifname, { filter: 'udp' });
    await py(p.b.ns, PY_UDP, SINK4, '50');
    await agent.until(() => agent.list('again').length >= 1, 3000, 'a datagram on the new capture');
    await agent.request({ op: 'close', name: 'again' });
  });

  test('an open capture keeps the process alive; once closed, the process exits by itself', async () => {
    const p = pair();
    const [closes, keeps] = await Promise.all([Agent.start(p.a.ns, build.js), Agent.start(p.a.ns, build.js)]);
    try {
      await closes.open('c', p.a.ifname, {});
      await keeps.open('k', p.a.ifname, {});
      await closes.request({ op: 'close', name: 'c' });
      const t0 = performance.now();
      await Promise.all([closes.request({ op: 'release' }), keeps.request({ op: 'release' })]);
      const exit = await Promise.race([closes.exited, sleep(1000).then(() => null)]);
      expect(exit, 'the agent that closed its capture did not exit within a second').not.toBeNull();
      expect(exit?.code).toBe(0);
      expect((exit?.atMs ?? Infinity) - t0).toBeLessThan(1000);
      await sleep(Math.max(0, 1000 - (performance.now() - t0)));
      expect(keeps.child.exitCode, 'the agent with an open capture exited').toBeNull();
    } finally {
      closes.kill();
      keeps.kill();
    }
  });

  test('a failed open returns the reason and does not crash the process later (cap would, at GC)', async () => {
    const p = pair();
    const badFilter = await agent.tryOpen('bad', p.a.ifname, { filter: 'tcp port' });
    expect(badFilter.ok).toBe(false);
    expect((badFilter.error as LiveError).code).toBe('bad-filter');
    expect((badFilter.error as LiveError).message).toMatch(/^bad BPF filter "\(not ether src 02:5a:00:00:00:0a\) and \(tcp port\)": .*syntax error/);
    const noIf = await agent.tryOpen('noif', 'sy-nosuch0', {});
    expect((noIf.error as LiveError).code).toBe('no-such-interface');
    expect((noIf.error as LiveError).message).toBe(`no interface "sy-nosuch0"; interfaces here: lo, ${p.a.ifname}`);
    expect((await agent.request({ op: 'gc' })).ok).toBe(true);
    await sleep(50);
    expect(agent.child.exitCode).toBeNull();
    expect((await agent.request({ op: 'stats', name: 'nothing' })).ok).toBe(false); // still answering
  });

  test('without CAP_NET_RAW the error says so and how to fix it', async () => {
    const p = pair();
    // setpriv drops CAP_NET_RAW from the bounding set: the exec'd node (root) no longer has it.
    const child = nsSpawn(p.a.ns, ['setpriv', '--bounding-set', '-net_raw', '--', process.execPath, build.js], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const replies: { id: number; ok: boolean; error?: LiveError }[] = [];
    child.on('message', (m: { id: number; ok: boolean; error?: LiveError }) => {
      replies.push(m);
      if (m.id === 0) child.send({ id: 1, op: 'open', name: 'x', iface: p.a.ifname, options: {} });
      else child.kill();
    });
    await new Promise((res) => child.on('exit', res));
    const err = replies.find((r) => r.id === 1)?.error;
    expect(err?.code).toBe('no-permission');
    expect(err?.message).toBe(
      `no permission to capture on ${p.a.ifname}: the process lacks CAP_NET_RAW. Fix: run as root (sudo), or give node the capabilities: sudo setcap cap_net_raw,cap_net_admin=eip $(which node)`,
    );
  });
});

describe('openLive without a capture', () => {
  const require = createRequire(import.meta.url);
  const BUILD_FIX = 'npm install-scripts approve cap && npm rebuild cap';

  test('cap not installed: the real error of a missing package', () => {
    const r = openLive('lo', { loader: () => require('cap-is-not-installed-here') });
    expect(isLiveError(r)).toBe(true);
    const e = r as LiveError;
    expect(e.code).toBe('cap-not-installed');
    expect(e.message).toContain('the optional dependency `cap` is not installed');
    expect(e.message).toContain('apt-get install libpcap-dev, then npm install cap');
    expect(e.message).toContain(BUILD_FIX);
    expect(e.cause).toContain("Cannot find module 'cap-is-not-installed-here'");
  });

  test('cap installed but its addon not built: the real error of a missing .node file', () => {
    const r = openLive('lo', { loader: () => require('/nonexistent/node_modules/cap/build/Release/cap.node') });
    const e = r as LiveError;
    expect(e.code).toBe('cap-not-built');
    expect(e.message).toBe(
      'cannot capture: the native addon of the `cap` package is not built (build/Release/cap.node is missing; its install script was not ' +
        `allowed to run, or failed). Fix: ${BUILD_FIX} (building needs libpcap-dev: apt-get install libpcap-dev, and python3, make, g++).`,
    );
  });

  test('libpcap missing, addon built for another Node, or a module without Cap', () => {
    const dl = capLoadError(new Error('libpcap.so.0.8: cannot open shared object file: No such file or directory'));
    expect(dl.code).toBe('libpcap-missing');
    expect(dl.message).toContain('apt-get install libpcap-dev, then npm rebuild cap');
    const abi = capLoadError(new Error('The module was compiled against a different Node.js version using NODE_MODULE_VERSION 108.'));
    expect(abi.code).toBe('cap-not-built');
    expect(abi.message).toContain(BUILD_FIX);
    const shape = openLive('lo', { loader: () => ({}) }) as LiveError;
    expect(shape.code).toBe('cap-not-built');
    expect(shape.message).toContain(BUILD_FIX);
  });

  test('options out of range are refused before anything opens', () => {
    const small = openLive('lo', { bufferSize: LIVE_MIN_BUFFER_SIZE - 1 }) as LiveError;
    expect(small.code).toBe('bad-option');
    expect(small.message).toBe(
      'bufferSize 1048575 refused: the libpcap ring must be at least 1048576 bytes (1 MiB); smaller rings drop frames under bursts',
    );
    expect((openLive('lo', { snaplen: 0 }) as LiveError).code).toBe('bad-option');
    expect((openLive('lo', { snaplen: 65536 }) as LiveError).code).toBe('bad-option');
    expect((openLive('', {}) as LiveError).code).toBe('bad-option');
    expect((openLive('a-name-too-long-for-linux', {}) as LiveError).code).toBe('bad-option');
    // Not an interface of the root namespace either (checked before cap is touched).
    const none = openLive('sy-nosuch0', {}) as LiveError;
    expect(none.code).toBe('no-such-interface');
  });
});

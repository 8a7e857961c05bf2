/**
 * A Host: addresses, a MAC, a neighbour table (ARP, NDP) and a socket table. Frames come in through
 * `input(frame, time)`, go through link decode → demux → TCP, and whatever the host sends leaves
 * through `sink`. Time is the injected clock's (integer µs); the Host never reads a real clock, so the
 * same frames and calls give the same output, byte for byte.
 *
 * The BSD-like calls are on `host.sockets` (a SocketTable); the Host passes its clock's time down.
 */
import { allocBytes, bytesOf } from '../wire/bytes.js';
import type { Bytes } from '../wire/bytes.js';
import { formatIpv4, formatIpv6, formatMac, isIpv4, writeIpv6 } from '../wire/address.js';
import { ArpOperation, ArpView, parseArpRepr } from '../wire/arp.js';
import { FrameDecoder } from '../wire/frame-decoder.js';
import { emitFrame } from '../wire/frame.js';
import { tcpFrameRepr } from '../wire/tcp-frame.js';
import type { FrameRepr } from '../wire/frame.js';
import { Icmpv6View, icmpv6ReprLen, parseIcmpv6Repr } from '../wire/icmpv6.js';
import type { Icmpv6Repr } from '../wire/icmpv6.js';
import { IpProtocol } from '../wire/ipproto.js';
import { EtherType, LinkType } from '../wire/linktype.js';
import { finishChecksum, pseudoHeaderSum } from '../wire/checksum.js';
import { TcpFlags, TcpPacket, parseTcpRepr, tcpReprHeaderLen, verifyTcpChecksum, formatTcpFlags, formatTcpOptions } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { Endpoint, Env } from '../tcp/env.js';
import type { Personality } from '../tcp/personality.js';
import type { ListenSettings } from '../socket/queues.js';
import { ErrnoError, errnoName, isErrno } from '../socket/errno.js';
import type { Errno } from '../socket/errno.js';
import { SocketTable } from '../socket/table.js';
import type { SockAddr, SocketEvent } from '../socket/table.js';
import { vlanKeyOf } from '../socket/tuple-index.js';
import { NeighborTable } from './neighbors.js';
import type { PendingFrame } from './neighbors.js';
import { newCounters } from './trace.js';
import type { HostCounters, SegmentNote, TraceEvent } from './trace.js';

export interface HostOptions {
  /** A name for traces and reports. */
  name?: string;
  /** The host's MAC; a locally administered one (02:...) for hosts on a real network. */
  mac: string;
  ipv4?: string[];
  ipv6?: string[];
  env: Env;
  personality?: Personality;
  listen?: Partial<ListenSettings>;
  fdLimit?: number;
  /** Where frames the host sends go. */
  sink(frame: Uint8Array, timeUs: number): void;
  /** Keep every trace event in `host.trace` (default false: counters only). */
  trace?: boolean;
  /** Called with every trace event as it happens (works with trace off too). */
  onTrace?: (e: TraceEvent) => void;
  /** Neighbours known from the start (IP → MAC): no ARP or NDP exchange for them. */
  neighbors?: Record<string, string>;
  /** Accept frames whatever their destination MAC (replaying captures made elsewhere). Default false. */
  promiscuous?: boolean;
  /**
   * Accept a TCP segment whose checksum field holds the partial sum a sender with checksum offload
   * leaves for its NIC to finish: the folded pseudo-header sum, uncomplemented (Linux
   * __tcp_v4_send_check / __tcp_v6_send_check, `th->check = ~tcp_v4_check(len, saddr, daddr, 0)`).
   * A packet socket on the peer's veth, or on a host whose own kernel sends, sees such segments as
   * they are: Linux itself trusts them (CHECKSUM_PARTIAL counts as verified). Any other wrong
   * checksum is still dropped as 'bad-checksum'. Default false (a capture or a test means what it says);
   * a Host attached to a live interface sets it.
   */
  acceptPartialChecksums?: boolean;
}

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** RFC 4291 §2.7.1: the solicited-node group ff02::1:ffXX:XXXX of `addr` and its MAC 33:33:ff:XX:XX:XX. */
function solicitedNode(addr: string): { ip: string; mac: string } {
  const b = allocBytes(16);
  writeIpv6(addr, b, 0);
  const low = b.u8.slice(13, 16);
  b.u8.fill(0);
  b.dv.setUint16(0, 0xff02);
  b.dv.setUint16(10, 0x0001);
  b.u8[12] = 0xff;
  b.u8.set(low, 13);
  const mac = allocBytes(6);
  mac.u8.set([0x33, 0x33, 0xff, ...low]);
  return { ip: formatIpv6(b, 0), mac: formatMac(mac, 0) };
}

export class Host {
  readonly name: string;
  readonly mac: string;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly env: Env;
  readonly sockets: SocketTable;
  readonly neighbors = new NeighborTable();
  readonly counters: HostCounters = newCounters();
  /** Every trace event, when `trace` is on. */
  readonly trace: TraceEvent[] = [];
  /** Segments taken with a partial (offload) checksum, with `acceptPartialChecksums`. */
  partialChecksums = 0;
  private readonly opts: HostOptions;
  private readonly decoder = new FrameDecoder();
  private readonly tracing: boolean;
  private frameNo = 0;
  /** The frame being processed (for events it causes), or null for calls and timers. */
  private currentFrame: number | null = null;
  private ipId: number;
  /** Promise-form calls waiting for their descriptor to become ready; re-tried after every input and timer. */
  private waiters: Array<() => boolean> = [];

  constructor(opts: HostOptions) {
    this.opts = opts;
    this.name = opts.name ?? opts.ipv4?.[0] ?? opts.ipv6?.[0] ?? opts.mac;
    this.mac = opts.mac.toLowerCase();
    this.ipv4 = opts.ipv4 ?? [];
    this.ipv6 = opts.ipv6 ?? [];
    this.env = opts.env;
    this.tracing = opts.trace === true || opts.onTrace !== undefined;
    this.ipId = opts.env.rand.nextU32() & 0xffff;
    for (const [ip, mac] of Object.entries(opts.neighbors ?? {})) this.neighbors.learn(ip, mac.toLowerCase());
    this.sockets = new SocketTable({
      env: opts.env,
      ...(opts.personality !== undefined ? { personality: opts.personality } : {}),
      ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
      ...(opts.fdLimit !== undefined ? { fdLimit: opts.fdLimit } : {}),
      output: (seg, local, remote) => this.sendSegment(seg, local, remote),
      onEvent: (e) => this.socketEvent(e),
      isLocalAddress: (a) => this.ipv4.includes(a) || this.ipv6.includes(a),
      sourceAddressFor: (remote) => (isIpv4(remote) ? (this.ipv4[0] ?? null) : (this.ipv6[0] ?? null)),
    });
  }

  /** The injected clock's time, pushed down to the socket table before a call. */
  now(): number {
    const t = this.env.clock.now();
    this.sockets.setTime(t);
    return t;
  }

  private emit(e: TraceEvent): void {
    if (this.opts.trace === true) this.trace.push(e);
    this.opts.onTrace?.(e);
  }

  private socketEvent(e: SocketEvent): void {
    // Counted with tracing off too: counters are what a Host keeps when it does not trace.
    if (e.type === 'drop') this.counters.drops++;
    if (!this.tracing) return;
    const time = this.env.clock.now();
    switch (e.type) {
      case 'state':
        this.emit({ type: 'state', time, frame: this.currentFrame, socket: e.socket.id, fd: e.fd, from: e.from, to: e.to, cause: e.cause });
        break;
      case 'drop':
        this.emit({ type: 'drop', time, frame: this.currentFrame, socket: e.socket.id, reason: e.reason });
        break;
      case 'accept':
        this.emit({ type: 'accept', time, socket: e.socket.id, listenerFd: e.listener.fd, fd: e.fd });
        break;
      case 'close':
        this.emit({ type: 'close', time, socket: e.socket.id, fd: e.fd });
        break;
      default: {
        const never: never = e;
        return never;
      }
    }
  }

  private drop(reason: string, time: number): void {
    this.counters.drops++;
    if (this.tracing) this.emit({ type: 'drop', time, frame: this.currentFrame, socket: null, reason });
  }

  // ---- input ---------------------------------------------------------------------------------------

  /** Takes one Ethernet frame that arrived at `timeUs`; returns its frame number (from 1). */
  input(frame: Uint8Array, timeUs: number): number {
    const n = ++this.frameNo;
    this.counters.framesIn++;
    this.currentFrame = n;
    this.sockets.setTime(timeUs);
    try {
      this.inputFrame(frame, n, timeUs);
    } finally {
      this.currentFrame = null;
    }
    this.wake();
    return n;
  }

  // ---- promise forms ---------------------------------------------------------------------------------

  private wake(): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((tryAgain) => !tryAgain());
  }

  /**
   * Runs `attempt` now and, while it answers `wouldBlock`, again after every frame and timer; resolves
   * with its first other answer (an errno name rejects). A non-blocking descriptor rejects at once.
   */
  private untilReady<T>(fd: number, attempt: () => T | Errno, wouldBlock: Errno): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const settle = (): boolean => {
        const r = attempt();
        if (r === wouldBlock) return false;
        if (isErrno(r)) reject(new ErrnoError(r));
        else resolve(r as T);
        return true;
      };
      this.now();
      if (settle()) return;
      if (this.sockets.fds.get(fd)?.options.nonBlocking === true) {
        reject(new ErrnoError(wouldBlock));
        return;
      }
      this.waiters.push(settle);
    });
  }

  /** accept(2), waiting for a completed connection. */
  accept(fd: number): Promise<{ fd: number; peer: SockAddr }> {
    return this.untilReady(fd, () => this.sockets.accept(fd), 'EAGAIN');
  }

  /** connect(2), resolving when the handshake completes (rejecting with ECONNREFUSED, ETIMEDOUT, ...). */
  connect(fd: number, address: string, port: number): Promise<0> {
    this.now();
    const r = this.sockets.connect(fd, address, port);
    if (r !== 'EINPROGRESS') return isErrno(r) ? Promise.reject(new ErrnoError(r)) : Promise.resolve(0);
    return this.untilReady(
      fd,
      (): 0 | Errno => {
        const ready = this.sockets.readiness(fd);
        if (isErrno(ready)) return ready;
        const err = this.sockets.getsockopt(fd, 'SO_ERROR');
        if (typeof err === 'number' && err !== 0) return errnoName(err) ?? 'EIO';
        return ready.writable ? 0 : 'EINPROGRESS';
      },
      'EINPROGRESS',
    );
  }

  /** recv(2), waiting for data; an empty array means end of stream. */
  recv(fd: number, max = 65536): Promise<Uint8Array> {
    return this.untilReady(fd, () => this.sockets.recv(fd, max), 'EAGAIN');
  }

  private inputFrame(frame: Uint8Array, n: number, timeUs: number): void {
    const b = bytesOf(frame);
    const d = this.decoder.decode(LinkType.ETHERNET, b, 0, frame.length, n, timeUs);
    const info = d.info;
    if (info.net === 'none') return this.drop(`malformed ${info.errorLayer ?? 'link'}: ${info.error ?? 'unknown'}`, timeUs);
    if (!this.opts.promiscuous && frame.length >= 6) {
      const dst = formatMac(b, 0);
      if (dst !== this.mac && dst !== BROADCAST && !dst.startsWith('33:33:') && !dst.startsWith('01:00:5e')) {
        return this.drop('not-our-mac', timeUs);
      }
    }
    if (info.net === 'arp') return this.arpIn(b, info.netOffset, frame.length - info.netOffset, timeUs);
    const ib = info.bytes;
    if (ib === null || info.addrLen === 0) return this.drop('not-ip', timeUs);
    const src = info.addrLen === 4 ? formatIpv4(ib, info.addrOffset) : formatIpv6(ib, info.addrOffset);
    const dst = info.addrLen === 4 ? formatIpv4(ib, info.addrOffset + 4) : formatIpv6(ib, info.addrOffset + 16);
    if (info.fragment && d.reassembledFrom === undefined) return; // held for reassembly
    if (info.l4Protocol === IpProtocol.ICMPV6) return this.icmpv6In(ib, info.l4Offset, info.l4Captured, src, dst, frame, timeUs);
    if (info.l4Protocol !== IpProtocol.TCP) return this.drop(`protocol ${info.l4Protocol}`, timeUs);
    if (!this.ipv4.includes(dst) && !this.ipv6.includes(dst)) return this.drop('not-our-address', timeUs);
    if (!info.tcp || info.error !== null) return this.drop(`malformed tcp: ${info.error ?? 'unknown'}`, timeUs);
    const pseudo = pseudoHeaderSum(ib, info.addrOffset, info.addrLen as 4 | 16, IpProtocol.TCP, info.l4Length);
    // Linux drops segments whose checksum fails (tcp_v4_rcv → csum_error); nothing answers them.
    if (!verifyTcpChecksum(ib, info.l4Offset, info.l4Length, pseudo)) {
      if (this.opts.acceptPartialChecksums !== true || !isPartialChecksum(ib, info.l4Offset, pseudo)) return this.drop('bad-checksum', timeUs);
      this.partialChecksums++;
    }
    const pkt = TcpPacket.check(ib, info.l4Offset, info.l4Captured, info.l4Length);
    if (typeof pkt === 'string') return this.drop(`malformed tcp: ${pkt}`, timeUs);
    const seg = parseTcpRepr(pkt);
    if (typeof seg === 'string') return this.drop(`malformed tcp: ${seg}`, timeUs);
    // Learn the sender's MAC from the frame, as a reply will need it (Linux learns it by ARP; a Host
    // replaying a capture may never see that ARP).
    if (this.neighbors.lookup(src) === null && frame.length >= 12) {
      this.flush(this.neighbors.learn(src, formatMac(b, 6)));
    }
    this.counters.tcpIn++;
    if (this.tracing) this.emit({ type: 'frame-in', time: timeUs, frame: n, length: frame.length, segment: note(seg, src, dst) });
    const vlan = vlanKeyOf(info.vlanIds.subarray(0, info.vlanCount));
    const v = this.sockets.segmentIn(seg, { addr: dst, port: seg.dstPort }, { addr: src, port: seg.srcPort }, vlan, timeUs);
    this.counters.demux[v.step]++;
    if (this.tracing) {
      this.emit({
        type: 'demux',
        time: timeUs,
        frame: n,
        step: v.step,
        socket: v.socket?.id ?? null,
        fd: v.fd,
        listenerFd: v.listener?.fd ?? null,
        action: v.action,
        state: v.socket?.tcb.state ?? null,
        drop: v.drop,
      });
    }
  }

  private arpIn(b: Bytes, off: number, len: number, timeUs: number): void {
    const v = ArpView.check(b, off, len);
    if (typeof v === 'string') return this.drop(`malformed arp: ${v}`, timeUs);
    const arp = parseArpRepr(v);
    if (arp.kind !== 'ethernet-ipv4') return this.drop('arp-not-ethernet-ipv4', timeUs);
    // RFC 826: merge the sender's mapping; answer a request for one of our addresses.
    if (arp.senderIp !== '0.0.0.0') this.flush(this.neighbors.learn(arp.senderIp, arp.senderMac));
    if (arp.operation === ArpOperation.REQUEST && this.ipv4.includes(arp.targetIp)) {
      this.sendFrame(
        {
          linkType: LinkType.ETHERNET,
          link: { kind: 'ethernet', header: { dst: arp.senderMac, src: this.mac, etherType: EtherType.ARP } },
          vlans: [],
          etherType: EtherType.ARP,
          net: { kind: 'arp', arp: { kind: 'ethernet-ipv4', operation: ArpOperation.REPLY, senderMac: this.mac, senderIp: arp.targetIp, targetMac: arp.senderMac, targetIp: arp.senderIp } },
        },
        timeUs,
        'arp',
        null,
      );
    }
  }

  private icmpv6In(b: Bytes, off: number, len: number, src: string, dst: string, frame: Uint8Array, timeUs: number): void {
    const v = Icmpv6View.check(b, off, len);
    if (typeof v === 'string') return this.drop(`malformed icmpv6: ${v}`, timeUs);
    const m = parseIcmpv6Repr(v, 0);
    if (m.kind === 'neighbor-advertisement') {
      const opt = m.options.find((o) => o.kind === 'target-link-address');
      const mac = opt !== undefined && opt.kind === 'target-link-address' ? opt.mac : null;
      if (mac !== null) this.flush(this.neighbors.learn(m.target, mac));
      return;
    }
    if (m.kind !== 'neighbor-solicitation') return;
    void dst;
    const slla = m.options.find((o) => o.kind === 'source-link-address');
    const peerMac = slla !== undefined && slla.kind === 'source-link-address' ? slla.mac : formatMac(bytesOf(frame), 6);
    if (src !== '::') this.flush(this.neighbors.learn(src, peerMac));
    if (!this.ipv6.includes(m.target)) return;
    // RFC 4861 §7.2.4: a solicited advertisement with our link-layer address, to the solicitor
    // (or to all nodes when it came from the unspecified address, as DAD does).
    const toAll = src === '::';
    const na: Icmpv6Repr = { kind: 'neighbor-advertisement', router: false, solicited: !toAll, override: true, target: m.target, options: [{ kind: 'target-link-address', mac: this.mac }] };
    this.sendIcmpv6(na, m.target, toAll ? 'ff02::1' : src, toAll ? '33:33:00:00:00:01' : peerMac, timeUs);
  }

  // ---- output --------------------------------------------------------------------------------------

  private sendIcmpv6(msg: Icmpv6Repr, src: string, dst: string, dstMac: string, timeUs: number): void {
    this.sendFrame(
      {
        linkType: LinkType.ETHERNET,
        link: { kind: 'ethernet', header: { dst: dstMac, src: this.mac, etherType: EtherType.IPV6 } },
        vlans: [],
        etherType: EtherType.IPV6,
        net: {
          kind: 'ipv6',
          // RFC 4861: hop limit 255 on every NDP message.
          header: { trafficClass: 0, flowLabel: 0, hopLimit: 255, src, dst, extensions: [], protocol: IpProtocol.ICMPV6, payloadLength: 0 },
          payload: { kind: 'icmpv6', icmpv6: msg },
        },
      },
      timeUs,
      'ndp',
      null,
    );
  }

  private sendFrame(repr: FrameRepr, timeUs: number, kind: 'tcp' | 'arp' | 'ndp', segment: SegmentNote | null): void {
    fixLengths(repr);
    const bytes = emitFrame(repr);
    this.counters.framesOut++;
    if (kind === 'tcp') this.counters.tcpOut++;
    if (this.tracing) this.emit({ type: 'frame-out', time: timeUs, out: this.counters.framesOut, length: bytes.length, segment, kind });
    this.opts.sink(bytes, timeUs);
  }

  /** Sends the frames that waited for a neighbour now known. */
  private flush(frames: PendingFrame[]): void {
    for (const f of frames) {
      const mac = this.neighbors.lookup(f.dstIp);
      if (mac !== null) f.build(mac);
    }
  }

  /** A segment from the socket table: wrap it in IP and Ethernet, resolving the next hop first. */
  private sendSegment(seg: TcpRepr, local: Endpoint, remote: Endpoint): void {
    const timeUs = this.env.clock.now();
    if ((seg.flags & TcpFlags.RST) !== 0) this.counters.resets++;
    const segNote = this.tracing ? note(seg, local.addr, remote.addr) : null;
    const build = (dstMac: string): void => {
      // Linux: a SYN-ACK from a request socket carries IP id 0, others a per-host counter here.
      const ipId = (seg.flags & TcpFlags.SYN) !== 0 ? 0 : this.nextIpId();
      const repr = tcpFrameRepr({ srcMac: this.mac, dstMac, src: local.addr, dst: remote.addr, tcp: seg, ipId });
      this.sendFrame(repr, this.env.clock.now(), 'tcp', segNote);
    };
    const mac = this.neighbors.lookup(remote.addr);
    if (mac !== null) {
      build(mac);
      return;
    }
    if (this.neighbors.enqueue(remote.addr, { dstIp: remote.addr, build }, timeUs)) this.solicit(remote.addr, local.addr, timeUs);
  }

  private nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  private solicit(ip: string, from: string, timeUs: number): void {
    if (isIpv4(ip)) {
      this.sendFrame(
        {
          linkType: LinkType.ETHERNET,
          link: { kind: 'ethernet', header: { dst: BROADCAST, src: this.mac, etherType: EtherType.ARP } },
          vlans: [],
          etherType: EtherType.ARP,
          net: { kind: 'arp', arp: { kind: 'ethernet-ipv4', operation: ArpOperation.REQUEST, senderMac: this.mac, senderIp: from, targetMac: '00:00:00:00:00:00', targetIp: ip } },
        },
        timeUs,
        'arp',
        null,
      );
      return;
    }
    const group = solicitedNode(ip);
    const ns: Icmpv6Repr = { kind: 'neighbor-solicitation', target: ip, options: [{ kind: 'source-link-address', mac: this.mac }] };
    this.sendIcmpv6(ns, from, group.ip, group.mac, timeUs);
  }

  // ---- time ----------------------------------------------------------------------------------------

  /** The next time anything is due (µs): a TCP timer or a neighbour probe. */
  pollAt(): number | null {
    const a = this.sockets.pollAt();
    const b = this.neighbors.nextDeadline();
    if (a === null) return b;
    if (b === null) return a;
    return Math.min(a, b);
  }

  /** Fires what is due at `timeUs`. */
  poll(timeUs: number): void {
    this.sockets.poll(timeUs);
    this.wake();
    const { resolve } = this.neighbors.due(timeUs);
    for (const ip of resolve) {
      const from = isIpv4(ip) ? this.ipv4[0] : this.ipv6[0];
      if (from !== undefined) this.solicit(ip, from, timeUs);
    }
  }
}

/** TCP's checksum field (RFC 9293 §3.1) holds the folded pseudo-header sum: what checksum offload leaves. */
function isPartialChecksum(b: Bytes, tcpOff: number, pseudo: number): boolean {
  return b.dv.getUint16(tcpOff + 16) === (~finishChecksum(pseudo) & 0xffff);
}

/** Lengths the records leave to the builder: the IP payload length from the transport. */
function fixLengths(repr: FrameRepr): void {
  const net = repr.net;
  if (net.kind !== 'ipv4' && net.kind !== 'ipv6') return;
  const t = net.payload;
  net.header.payloadLength =
    t.kind === 'tcp' ? tcpReprHeaderLen(t.tcp) + t.tcp.payload.length : t.kind === 'icmpv6' ? icmpv6ReprLen(t.icmpv6) : t.bytes.length;
}

function note(seg: TcpRepr, src: string, dst: string): SegmentNote {
  return {
    src: `${src}.${seg.srcPort}`,
    dst: `${dst}.${seg.dstPort}`,
    flags: formatTcpFlags(seg.flags),
    seq: seg.seq,
    ack: seg.ack,
    window: seg.window,
    length: seg.payload.length,
    options: formatTcpOptions(seg.options),
  };
}

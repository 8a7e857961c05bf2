/**
 * Every frame of every capture the tests know (the shared corpus and the project's own kernel captures in
 * fixtures/) through the link codecs, read in place from the capture reader's chunk: each header and VLAN
 * stack must decode, re-emit to the same bytes, and, for the corpus, give the field values tshark gives.
 * ARP packets and ICMPv6 messages (only the fixtures have them) must decode, verify and re-emit exactly.
 *
 * TRUTH counts corpus frames per decoded key. It was produced once with tshark 4.0.17, not by this code:
 * fields eth.type, vlan.priority, vlan.dei, vlan.id, vlan.etype (key: each tag as "tpid:pcp/dei/vid",
 * then ">" and the final EtherType); sll.pkttype, sll.hatype, sll.halen, sll.etype, sll.ifindex; null.family.
 */
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { ArpView, arpReprLen, emitArpRepr, parseArpRepr } from '../../src/wire/arp.js';
import { allocBytes, hex } from '../../src/wire/bytes.js';
import type { Bytes } from '../../src/wire/bytes.js';
import { pseudoHeaderSum } from '../../src/wire/checksum.js';
import { emitEthernetRepr, EthernetView, parseEthernetRepr } from '../../src/wire/ethernet.js';
import { emitIcmpv6Repr, Icmpv6View, IPPROTO_ICMPV6, ndpLinkAddress, parseIcmpv6Repr } from '../../src/wire/icmpv6.js';
import { EtherType, LinkType } from '../../src/wire/linktype.js';
import { emitLoopbackRepr, loopbackNext, LoopbackView, parseLoopbackRepr } from '../../src/wire/loopback.js';
import { emitSllRepr, parseSllRepr, sllNext, SllView } from '../../src/wire/sll.js';
import { emitSll2Repr, parseSll2Repr, sll2Next, Sll2View } from '../../src/wire/sll2.js';
import { emitVlanTags, vlanOuterEtherType, walkEthernetVlanTags } from '../../src/wire/vlan.js';
import { ALL_CAPTURES, CAPTURE_FILES } from '../corpus.js';

type Counts = Record<string, number>;
interface Seen {
  ethernet?: Counts;
  sll?: Counts;
  null?: Counts;
  arp?: Counts;
  icmpv6?: Counts;
}

const TRUTH: Record<string, Seen> = {
  'arkime-socks5-http-302-frag.pcap': {ethernet: {'>0800': 72}},
  'chrissanders-tcp-refuseconnection.pcapng': {ethernet: {'>0800': 2}},
  'ndpi-pgsql2-null.pcapng': {null: {'2': 19}},
  'ndpi-reddit-ipv6.pcap': {ethernet: {'>86dd': 1942}},
  'ndpi-rtsp-dup4-sll.pcapng': {sll: {'3/1/6/0x0800/': 284, '0/1/6/0x0800/': 142, '4/1/6/0x0800/': 142}},
  'ppa-ftpclientdenied.pcap': {ethernet: {'>0800': 3}},
  'ppp-many-interfaces.pcapng': {ethernet: {'>0800': 62}, null: {'2': 2}},
  'ppp-nanosecs-be.pcap': {ethernet: {'>0800': 10}},
  'ppp-pcapng-example.pcapng': {ethernet: {'>0800': 59}, sll: {'0/1/6/0x0800/': 43, '4/1/6/0x0800/': 53, '0/1/6/0x86dd/': 2, '4/1/6/0x86dd/': 2}},
  'ppp-unidirectional-missing-packet.pcap': {ethernet: {'>0800': 14}},
  'sv-decode-sll2-01.pcap': {sll: {'4/1/6/0x0800/2': 3, '0/1/6/0x0800/2': 2}},
  'sv-split-handshake-4whs.pcap': {ethernet: {'>0800': 7}},
  'sv-syn-retransmit-with-ts.pcap': {ethernet: {'8100:0/0/3136 >0800': 106, '>0800': 148}},
  'tcpdump-pptp-be.pcap': {ethernet: {'>0800': 23}},
  'tcpdump-resp-1-benchmark-sll.pcap': {sll: {'0/772/6/0x0800/': 150}},
  'tcpdump-tcp-handshake-nano-sll.pcap': {sll: {'4/512/0/0x0800/': 2, '0/512/0/0x0800/': 1}},
  'zeek-chksums-ip4-tcp-bad.pcap': {ethernet: {'>0800': 1}},
  'zeek-chksums-ip6-tcp-bad.pcap': {ethernet: {'>86dd': 1}},
  'zeek-http-get-to-ssh-server-ns.pcap': {ethernet: {'>0800': 9}},
  'zeek-http-methods-many-clients.pcap': {ethernet: {'>0800': 655}},
  'zeek-http-vlan-0.pcap': {ethernet: {'8100:5/1/0 >0800': 14}},
  'zeek-ipv4-fragmented-syn.pcap': {ethernet: {'>0800': 2}},
  'zeek-irc-353-null.pcap': {null: {'30': 2, '2': 10}},
  'zeek-ldap-gap-data-missing.pcapng': {ethernet: {'8100:0/0/81 >86dd': 10, '8100:0/0/80 >86dd': 8}},
  'zeek-pop3-refused-retries.pcap': {ethernet: {'>0800': 125}},
  'zeek-redis-attr-null.pcap': {null: {'30': 4, '2': 24}},
  'zeek-tcp-fast-open.pcap': {ethernet: {'>0800': 16}},
  'zeek-tcp-handshake-reorder.pcap': {ethernet: {'>0800': 14}},
  'zeek-tcp-missing-syn.pcap': {ethernet: {'>0800': 21}},
  'zeek-tcp-one-sided-2745.pcap': {ethernet: {'>0800': 6}},
  'zeek-tcp-options.pcap': {ethernet: {'>0800': 4}},
  'zeek-tcp-qi-synack-curl-sack.pcap': {ethernet: {'>0800': 14}},
  'zeek-tcp-retransmit-fast009.pcap': {ethernet: {'>0800': 39}},
  'zeek-tcp-rst-inject-rae.pcap': {ethernet: {'>0800': 9}},
  'zeek-tcp-truncated-header.pcap': {ethernet: {'>0800': 24}},
  'zeek-tls-openjdk-sll2.pcap': {sll: {'4/1/6/0x0800/2': 3, '0/1/6/0x0800/2': 3}},
  'zeek-vlan-collisions.pcap': {ethernet: {'>0800': 14, '8100:4/1/42 >0800': 14, '8100:2/1/10 8100:2/1/20 >0800': 14}},
  'zeek-vlan-qinqinq.pcap': {ethernet: {'8100:0/0/30 8100:0/0/20 8100:0/0/10 >0800': 14}},
};

/** Link types whose frames start with the IP header: nothing for the link codecs to do. */
const RAW_IP: readonly number[] = [LinkType.RAW, LinkType.RAW_DLT12, LinkType.RAW_DLT14, LinkType.IPV4, LinkType.IPV6];

const h4 = (n: number): string => n.toString(16).padStart(4, '0');

function bump(seen: Seen, kind: keyof Seen, key: string): void {
  const c = (seen[kind] ??= {});
  c[key] = (c[key] ?? 0) + 1;
}

/** Emits into a buffer filled with 0xa5 (so skipped bytes show) and compares with the captured bytes. */
function expectEmit(where: string, b: Bytes, off: number, len: number, emit: (out: Bytes) => number): void {
  const out = allocBytes(len, 0xa5);
  expect(emit(out), where).toBe(len);
  expect(hex(out.u8), where).toBe(hex(b.u8.subarray(off, off + len)));
}

function arp(seen: Seen, where: string, b: Bytes, off: number, len: number, ethSrc: string): void {
  const v = ArpView.check(b, off, len);
  if (typeof v === 'string') throw new Error(`${where}: ARP ${v}`);
  const r = parseArpRepr(v);
  bump(seen, 'arp', `${r.kind}/${r.operation}`);
  // Linux puts its own MAC in the sender field of what it sends.
  if (r.kind === 'ethernet-ipv4') expect(r.senderMac, where).toBe(ethSrc);
  expectEmit(where, b, off, arpReprLen(r), (out) => emitArpRepr(r, out, 0));
}

/** Finds ICMPv6 behind an IPv6 header and the extension headers that precede it in these captures. */
function icmpv6(seen: Seen, where: string, b: Bytes, ip6: number, avail: number, ethSrc: string): void {
  const u = b.u8;
  const end = ip6 + 40 + b.dv.getUint16(ip6 + 4);
  let next = u[ip6 + 6] as number;
  let pos = ip6 + 40;
  // Hop-by-hop (MLD reports), routing, destination options: (length + 1) * 8 bytes each.
  while ((next === 0 || next === 43 || next === 60) && pos + 2 <= end) {
    next = u[pos] as number;
    pos += ((u[pos + 1] as number) + 1) * 8;
  }
  if (next !== IPPROTO_ICMPV6) return;
  expect(end, `${where}: ICMPv6 cut by the snap length`).toBeLessThanOrEqual(ip6 + avail);
  const len = end - pos;
  const v = Icmpv6View.check(b, pos, len);
  if (typeof v === 'string') throw new Error(`${where}: ICMPv6 ${v}`);
  const pseudo = pseudoHeaderSum(b, ip6 + 8, 16, IPPROTO_ICMPV6, len);
  // The fixtures are captured with checksum offload off: every checksum on the wire is right.
  expect(v.verifyChecksum(pseudo), where).toBe(true);
  const r = parseIcmpv6Repr(v, pseudo);
  expect(r.checksum, where).toBeUndefined();
  bump(seen, 'icmpv6', r.kind === 'other' ? `other/${r.type}` : r.kind);
  if (r.kind === 'neighbor-solicitation') {
    const sll = ndpLinkAddress(r.options, 'source-link-address');
    if (sll !== undefined) expect(sll, where).toBe(ethSrc);
  } else if (r.kind === 'neighbor-advertisement') {
    expect(ndpLinkAddress(r.options, 'target-link-address'), where).toBe(ethSrc);
  }
  expectEmit(where, b, pos, len, (out) => emitIcmpv6Repr(r, out, 0, pseudo));
}

function ethernet(seen: Seen, where: string, b: Bytes, off: number, len: number): void {
  const eth = EthernetView.check(b, off, len);
  if (typeof eth === 'string') throw new Error(`${where}: ${eth}`);
  const st = walkEthernetVlanTags(eth);
  if (typeof st === 'string') throw new Error(`${where}: ${st}`);
  expect(st.depthLimited, where).toBe(false);
  const tags = st.tags.map((t) => `${h4(t.tpid)}:${t.pcp}/${t.dei ? 1 : 0}/${t.vid}`);
  bump(seen, 'ethernet', [...tags, `>${h4(st.protocol)}`].join(' '));
  // Emit [ethernet, tags...], copy the payload behind it, and compare the whole frame.
  const repr = parseEthernetRepr(eth);
  expect(repr.etherType, where).toBe(vlanOuterEtherType(st.tags, st.protocol));
  expectEmit(where, b, off, len, (out) => {
    let pos = emitEthernetRepr(repr, out, 0);
    pos += emitVlanTags(st.tags, st.protocol, out, pos);
    expect(off + pos, where).toBe(st.offset);
    out.u8.set(b.u8.subarray(st.offset, off + len), pos);
    return len;
  });
  if (st.protocol === EtherType.ARP) arp(seen, where, b, st.offset, st.length, repr.src);
  if (st.protocol === EtherType.IPV6) icmpv6(seen, where, b, st.offset, st.length, repr.src);
}

function sweep(name: string, path: string): Seen {
  const seen: Seen = {};
  const reader = openCapture(path);
  try {
    for (let f = reader.next(); f; f = reader.next()) {
      // Views work in place on the reader's chunk: (bytes, offset, capLen).
      const b = f.bytes;
      const off = f.offset;
      const len = f.capLen;
      const where = `${name} frame ${f.index}`;
      if (f.linkType === LinkType.ETHERNET) {
        ethernet(seen, where, b, off, len);
      } else if (f.linkType === LinkType.LINUX_SLL) {
        const v = SllView.check(b, off, len);
        if (typeof v === 'string') throw new Error(`${where}: ${v}`);
        const r = parseSllRepr(v);
        bump(seen, 'sll', `${r.packetType}/${r.arphrdType}/${r.addrLen}/0x${h4(r.protocol)}/`);
        expect(sllNext(v), where).toEqual({ protocol: r.protocol, offset: off + 16, length: len - 16 });
        expectEmit(where, b, off, 16, (out) => emitSllRepr(r, out, 0));
      } else if (f.linkType === LinkType.LINUX_SLL2) {
        const v = Sll2View.check(b, off, len);
        if (typeof v === 'string') throw new Error(`${where}: ${v}`);
        const r = parseSll2Repr(v);
        bump(seen, 'sll', `${r.packetType}/${r.arphrdType}/${r.addrLen}/0x${h4(r.protocol)}/${r.ifindex}`);
        expect(sll2Next(v), where).toEqual({ protocol: r.protocol, offset: off + 20, length: len - 20 });
        expectEmit(where, b, off, 20, (out) => emitSll2Repr(r, out, 0));
      } else if (f.linkType === LinkType.NULL) {
        const v = LoopbackView.check(b, off, len);
        if (typeof v === 'string') throw new Error(`${where}: ${v}`);
        const r = parseLoopbackRepr(v);
        bump(seen, 'null', String(r.family));
        // The family must name the IP version that the packet itself carries.
        const next = loopbackNext(v);
        const version = (b.u8[next.offset] as number) >> 4;
        expect(next.network, where).toBe(version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : 'other');
        expectEmit(where, b, off, 4, (out) => emitLoopbackRepr(r, out, 0));
      } else if (!RAW_IP.includes(f.linkType)) {
        throw new Error(`${where}: unexpected link type ${f.linkType}`);
      }
    }
    if (reader.error) throw new Error(`${name}: ${reader.error.message}`);
  } finally {
    reader.close();
  }
  return seen;
}

describe('link codecs on every capture', () => {
  it('finds the capture corpus', () => {
    expect(CAPTURE_FILES.length).toBeGreaterThanOrEqual(42);
    expect(Object.keys(TRUTH).every((n) => CAPTURE_FILES.includes(n))).toBe(true);
  });

  for (const name of CAPTURE_FILES) {
    it(name, () => {
      const c = ALL_CAPTURES.find((x) => x.name === name);
      if (c === undefined) throw new Error(`${name} not in ALL_CAPTURES`);
      // tshark finds no ARP and no ICMPv6 in the corpus, so those keys must stay absent here too.
      expect(sweep(name, c.path)).toEqual(TRUTH[name] ?? {});
    });
  }

  const fixtures = ALL_CAPTURES.filter((c) => !CAPTURE_FILES.includes(c.name));
  it.runIf(fixtures.length > 0)('project fixtures: ARP and NDP from the Linux kernel', () => {
    const total: Seen = {};
    for (const c of fixtures) {
      const s = sweep(c.name, c.path);
      for (const kind of ['arp', 'icmpv6'] as const) {
        for (const [k, n] of Object.entries(s[kind] ?? {})) {
          const t = (total[kind] ??= {});
          t[k] = (t[k] ?? 0) + n;
        }
      }
    }
    // The scenarios resolve neighbours over IPv4 and IPv6, so both exchanges must have been checked.
    expect(total.arp?.['ethernet-ipv4/1']).toBeGreaterThan(0);
    expect(total.arp?.['ethernet-ipv4/2']).toBeGreaterThan(0);
    expect(total.icmpv6?.['neighbor-solicitation']).toBeGreaterThan(0);
    expect(total.icmpv6?.['neighbor-advertisement']).toBeGreaterThan(0);
  });
});

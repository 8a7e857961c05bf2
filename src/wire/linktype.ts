/**
 * Link-layer numbers shared by the link codecs and the capture readers: pcap LINKTYPE_* values, EtherTypes,
 * and the BSD address-family values that NULL/LOOP headers carry. Unknown values are kept as numbers
 * everywhere; the name helpers only label the ones we know.
 */

/**
 * LINKTYPE_* values as they appear in a pcap file header or a pcapng Interface Description Block
 * (tcpdump.org link-layer header types). DLT_RAW is 12 on most systems and 14 on OpenBSD; libpcap writes
 * LINKTYPE_RAW (101) for both, but old writers left the raw DLT in the file, so both turn up.
 */
export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order (loopback.ts). */
  NULL: 0,
  /** Ethernet II / 802.3 (DLT_EN10MB). */
  ETHERNET: 1,
  /** Raw IP written with DLT_RAW's value on most systems. */
  RAW_DLT12: 12,
  /** Raw IP written with DLT_RAW's value on OpenBSD. */
  RAW_DLT14: 14,
  /** Raw IP; the version nibble says IPv4 or IPv6. */
  RAW: 101,
  /** OpenBSD loopback: like NULL but the family is always in network byte order. */
  LOOP: 108,
  /** Linux cooked capture v1 (sll.ts). */
  LINUX_SLL: 113,
  /** Raw IPv4 only. */
  IPV4: 228,
  /** Raw IPv6 only. */
  IPV6: 229,
  /** Linux cooked capture v2 (sll2.ts). */
  LINUX_SLL2: 276,
} as const;

export type LinkTypeName = keyof typeof LinkType;

const LINK_TYPE_NAMES = new Map<number, LinkTypeName>(
  (Object.keys(LinkType) as LinkTypeName[]).map((k) => [LinkType[k], k]),
);

/** "ETHERNET", "LINUX_SLL2", ...; an unknown value prints as "LINKTYPE_<n>". */
export function linkTypeName(n: number): string {
  return LINK_TYPE_NAMES.get(n) ?? `LINKTYPE_${n}`;
}

/**
 * EtherTypes (IEEE Registration Authority). A value of 1500 or less in the EtherType slot of an Ethernet
 * header is an IEEE 802.3 length instead (ethernet.ts keeps such frames opaque).
 */
export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  WAKE_ON_LAN: 0x0842,
  RARP: 0x8035,
  /** IEEE 802.1Q customer VLAN tag (C-tag). */
  VLAN: 0x8100,
  IPV6: 0x86dd,
  SLOW_PROTOCOLS: 0x8809,
  MPLS: 0x8847,
  MPLS_MULTICAST: 0x8848,
  PPPOE_DISCOVERY: 0x8863,
  PPPOE_SESSION: 0x8864,
  EAPOL: 0x888e,
  /** IEEE 802.1ad service VLAN tag (S-tag, "QinQ"). */
  QINQ: 0x88a8,
  LLDP: 0x88cc,
  MACSEC: 0x88e5,
  PTP: 0x88f7,
  /** Pre-802.1ad vendor S-tag TPID, still seen on older switches. */
  QINQ_OLD: 0x9100,
} as const;

export type EtherTypeName = keyof typeof EtherType;

const ETHER_TYPE_NAMES = new Map<number, EtherTypeName>(
  (Object.keys(EtherType) as EtherTypeName[]).map((k) => [EtherType[k], k]),
);

/** The largest value in the EtherType slot that is an 802.3 length (IEEE 802.3 clause 3.2.6). */
export const ETHERNET_MAX_LENGTH_FIELD = 1500;

/** "IPV4", "VLAN", ...; a length field prints as "LENGTH(n)", anything else as "0x1234". */
export function etherTypeName(n: number): string {
  const known = ETHER_TYPE_NAMES.get(n);
  if (known !== undefined) return known;
  if (n <= ETHERNET_MAX_LENGTH_FIELD) return `LENGTH(${n})`;
  return `0x${n.toString(16).padStart(4, '0')}`;
}

/**
 * Address-family values in NULL and LOOP headers. AF_INET is 2 everywhere; AF_INET6 differs per BSD, and
 * a capture keeps the value of the host that wrote it, so all three IPv6 values must be recognised.
 */
export const BsdAddressFamily = {
  INET: 2,
  /** AF_INET6 on NetBSD, OpenBSD and BSD/OS. */
  INET6_BSD: 24,
  /** AF_INET6 on FreeBSD and DragonFly. */
  INET6_FREEBSD: 28,
  /** AF_INET6 on macOS / Darwin. */
  INET6_DARWIN: 30,
} as const;

/** Which network layer comes next, for link types that name it without an EtherType. */
export type NetworkKind = 'ipv4' | 'ipv6' | 'other';

export function bsdFamilyNetwork(family: number): NetworkKind {
  switch (family) {
    case BsdAddressFamily.INET:
      return 'ipv4';
    case BsdAddressFamily.INET6_BSD:
    case BsdAddressFamily.INET6_FREEBSD:
    case BsdAddressFamily.INET6_DARWIN:
      return 'ipv6';
    default:
      return 'other';
  }
}

export function etherTypeNetwork(etherType: number): NetworkKind {
  if (etherType === EtherType.IPV4) return 'ipv4';
  if (etherType === EtherType.IPV6) return 'ipv6';
  return 'other';
}

/**
 * What follows a link header: an EtherType-like protocol number and where its bytes are. `offset` and
 * `length` are absolute positions in the Bytes the header was read from, so the next view is
 * `XView.check(b, next.offset, next.length)`.
 */
export interface LinkNext {
  readonly protocol: number;
  readonly offset: number;
  readonly length: number;
}

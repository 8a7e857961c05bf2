/**
 * IP protocol numbers: the IPv4 Protocol field and the IPv6 Next Header field share one registry
 * (IANA "Assigned Internet Protocol Numbers"). Unknown values are kept as numbers everywhere; the names
 * here are for code and printing only.
 */
export const IpProtocol = {
  /** IPv6 Hop-by-Hop Options (RFC 8200 §4.3); only valid right after the IPv6 header. */
  HOPOPT: 0,
  ICMP: 1,
  IGMP: 2,
  /** IPv4 in IP (RFC 2003). */
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  /** IPv6 in IP (RFC 2473, 6in4). */
  IPV6: 41,
  /** IPv6 Routing header (RFC 8200 §4.4). */
  IPV6_ROUTE: 43,
  /** IPv6 Fragment header (RFC 8200 §4.5). */
  IPV6_FRAG: 44,
  RSVP: 46,
  GRE: 47,
  /** Encapsulating Security Payload (RFC 4303): opaque, ends any header walk. */
  ESP: 50,
  /** Authentication Header (RFC 4302): an extension header whose length counts 4-byte units. */
  AH: 51,
  ICMPV6: 58,
  /** No Next Header (RFC 8200 §4.7): nothing follows, whatever bytes remain. */
  IPV6_NONXT: 59,
  /** IPv6 Destination Options (RFC 8200 §4.6). */
  IPV6_OPTS: 60,
  OSPF: 89,
  PIM: 103,
  VRRP: 112,
  L2TP: 115,
  SCTP: 132,
  /** Mobility header (RFC 6275); Linux does not walk past it as an extension header. */
  MOBILITY: 135,
  UDPLITE: 136,
  MPLS_IN_IP: 137,
  HIP: 139,
  SHIM6: 140,
  ETHERNET: 143,
  /** Experimentation and testing (RFC 3692). */
  EXPERIMENT_253: 253,
  EXPERIMENT_254: 254,
  RAW: 255,
} as const;

export type IpProtocolName = keyof typeof IpProtocol;

const NAMES = new Map<number, IpProtocolName>(
  (Object.keys(IpProtocol) as IpProtocolName[]).map((k) => [IpProtocol[k], k]),
);

/** "TCP", "IPV6_FRAG", ...; a value without a name here prints as "PROTO_<n>". */
export function ipProtocolName(n: number): string {
  return NAMES.get(n) ?? `PROTO_${n}`;
}

/**
 * The extension headers an IPv6 header walk steps over, as Linux's ipv6_ext_hdr() lists them (minus No
 * Next Header, which ends the walk): Hop-by-Hop, Routing, Fragment, AH, Destination Options. ESP, No Next
 * Header and everything else (Mobility, HIP, Shim6, 253/254 included) end the walk with the rest opaque.
 */
export function isWalkedIpv6ExtensionHeader(n: number): boolean {
  return (
    n === IpProtocol.HOPOPT ||
    n === IpProtocol.IPV6_ROUTE ||
    n === IpProtocol.IPV6_FRAG ||
    n === IpProtocol.AH ||
    n === IpProtocol.IPV6_OPTS
  );
}

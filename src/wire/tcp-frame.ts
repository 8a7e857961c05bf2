/**
 * One TCP segment in an IPv4 or IPv6 packet in an Ethernet frame, as a FrameRepr with every length
 * filled: what a Host sends, what the packetdrill runner injects, what tests build. Addresses decide the
 * IP version. Linux's choices are the defaults: DF set, TTL / hop limit 64, no IP options.
 */
import { isIpv4 } from './address.js';
import type { FrameRepr } from './frame.js';
import { IpProtocol } from './ipproto.js';
import { EtherType, LinkType } from './linktype.js';
import { tcpReprHeaderLen } from './tcp.js';
import type { TcpRepr } from './tcp.js';
import type { VlanTag } from './vlan.js';

export interface TcpFrameFields {
  srcMac: string;
  dstMac: string;
  src: string;
  dst: string;
  tcp: TcpRepr;
  /** IPv4 identification (default 0). */
  ipId?: number;
  /** TTL or hop limit (default 64). */
  ttl?: number;
  /** 802.1Q VLAN ids, outermost first. */
  vlans?: readonly number[];
}

export function tcpFrameRepr(f: TcpFrameFields): FrameRepr {
  const v4 = isIpv4(f.src);
  const etherType = v4 ? EtherType.IPV4 : EtherType.IPV6;
  const vlans: VlanTag[] = (f.vlans ?? []).map((vid) => ({ tpid: EtherType.VLAN, pcp: 0, dei: false, vid }));
  const payloadLength = tcpReprHeaderLen(f.tcp) + f.tcp.payload.length;
  const ttl = f.ttl ?? 64;
  return {
    linkType: LinkType.ETHERNET,
    link: { kind: 'ethernet', header: { dst: f.dstMac, src: f.srcMac, etherType: vlans[0]?.tpid ?? etherType } },
    vlans,
    etherType,
    net: v4
      ? {
          kind: 'ipv4',
          header: {
            dscp: 0,
            ecn: 0,
            identification: (f.ipId ?? 0) & 0xffff,
            dontFragment: true,
            moreFragments: false,
            fragmentOffset: 0,
            ttl,
            protocol: IpProtocol.TCP,
            src: f.src,
            dst: f.dst,
            options: [],
            payloadLength,
          },
          payload: { kind: 'tcp', tcp: f.tcp },
        }
      : {
          kind: 'ipv6',
          header: { trafficClass: 0, flowLabel: 0, hopLimit: ttl, src: f.src, dst: f.dst, extensions: [], protocol: IpProtocol.TCP, payloadLength },
          payload: { kind: 'tcp', tcp: f.tcp },
        },
  };
}

import { describe, expect, it } from 'vitest';
import {
  BsdAddressFamily,
  bsdFamilyNetwork,
  ETHERNET_MAX_LENGTH_FIELD,
  EtherType,
  etherTypeName,
  etherTypeNetwork,
  LinkType,
  linkTypeName,
} from '../../src/wire/linktype.js';

describe('link-layer numbers', () => {
  it('has the LINKTYPE values of the tcpdump.org registry', () => {
    expect(LinkType).toEqual({
      NULL: 0,
      ETHERNET: 1,
      RAW_DLT12: 12,
      RAW_DLT14: 14,
      RAW: 101,
      LOOP: 108,
      LINUX_SLL: 113,
      IPV4: 228,
      IPV6: 229,
      LINUX_SLL2: 276,
    });
  });

  it('names link types, unknown ones by number', () => {
    expect(linkTypeName(1)).toBe('ETHERNET');
    expect(linkTypeName(276)).toBe('LINUX_SLL2');
    expect(linkTypeName(12)).toBe('RAW_DLT12');
    // zeek-ldap-gap-data-missing.pcapng has an IEEE802_15_4_TAP interface we do not decode.
    expect(linkTypeName(274)).toBe('LINKTYPE_274');
  });

  it('names EtherTypes and 802.3 lengths', () => {
    expect(EtherType.IPV4).toBe(0x0800);
    expect(EtherType.IPV6).toBe(0x86dd);
    expect(EtherType.ARP).toBe(0x0806);
    expect([EtherType.VLAN, EtherType.QINQ, EtherType.QINQ_OLD]).toEqual([0x8100, 0x88a8, 0x9100]);
    expect(etherTypeName(0x86dd)).toBe('IPV6');
    expect(etherTypeName(0x9100)).toBe('QINQ_OLD');
    expect(etherTypeName(ETHERNET_MAX_LENGTH_FIELD)).toBe('LENGTH(1500)');
    expect(etherTypeName(46)).toBe('LENGTH(46)');
    expect(etherTypeName(0x05dd)).toBe('0x05dd');
    expect(etherTypeNetwork(0x0800)).toBe('ipv4');
    expect(etherTypeNetwork(0x86dd)).toBe('ipv6');
    expect(etherTypeNetwork(0x0806)).toBe('other');
  });

  it('maps every BSD AF_INET6 value to IPv6', () => {
    expect(BsdAddressFamily).toEqual({ INET: 2, INET6_BSD: 24, INET6_FREEBSD: 28, INET6_DARWIN: 30 });
    expect(bsdFamilyNetwork(2)).toBe('ipv4');
    for (const af of [24, 28, 30]) expect(bsdFamilyNetwork(af)).toBe('ipv6');
    // Linux's AF_INET6 (10) never appears in NULL headers; 7 is AF_ISO (OSI).
    expect(bsdFamilyNetwork(10)).toBe('other');
    expect(bsdFamilyNetwork(7)).toBe('other');
  });
});

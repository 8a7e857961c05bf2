import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Bytes } from '../../src/wire/bytes.js';
import { allocBytes, bytesOf, fromHex, hex } from '../../src/wire/bytes.js';
import { isWireError } from '../../src/wire/errors.js';
import type { TcpOption, TcpRepr } from '../../src/wire/tcp.js';
import {
  TCP_OPTION_ABSENT,
  TCP_OPTION_MALFORMED,
  TcpFlags,
  TcpOptionKind,
  TcpPacket,
  checkTcpOptions,
  emitTcpOptions,
  emitTcpRepr,
  findTcpOption,
  findTcpTimestamps,
  formatTcpFlags,
  formatTcpOptions,
  getTcpMss,
  getTcpWindowScale,
  hasTcpSackPermitted,
  parseTcpOptions,
  parseTcpRepr,
  tcpOptionsLen,
  tcpReprHeaderLen,
} from '../../src/wire/tcp.js';
import { corpusSegments } from './tcp-corpus.js';

function opts(h: string): TcpOption[] {
  const b = bytesOf(fromHex(h));
  const o = parseTcpOptions(b, 0, b.u8.length);
  if (isWireError(o)) throw new Error(`parseTcpOptions: ${o}`);
  return o;
}

function emitOpts(o: readonly TcpOption[]): string {
  const b = allocBytes(tcpOptionsLen(o) + 2, 0xa5);
  const n = emitTcpOptions(o, b, 1);
  expect(n).toBe(tcpOptionsLen(o));
  expect([b.u8[0], b.u8[n + 1]]).toEqual([0xa5, 0xa5]);
  return hex(b.u8.subarray(1, 1 + n));
}

/** Real option bytes, the records they decode to, and tcpdump -S -v's text for them. */
const VECTORS: Array<{ what: string; hex: string; options: TcpOption[]; tcpdump: string }> = [
  {
    // zeek-tcp-options.pcap frame 2, bytes 54..74 (Linux SYN-ACK layout)
    what: 'Linux SYN-ACK',
    hex: '020405640402080a19003c97ffff54e901030307',
    options: [
      { kind: 'mss', value: 1380 },
      { kind: 'sack-permitted' },
      { kind: 'timestamps', tsVal: 419445911, tsEcr: 4294923497 },
      { kind: 'nop' },
      { kind: 'wscale', shift: 7 },
    ],
    tcpdump: 'mss 1380,sackOK,TS val 419445911 ecr 4294923497,nop,wscale 7',
  },
  {
    // zeek-tcp-qi-synack-curl-sack.pcap frame 1, bytes 54..78 (NOP-heavy BSD-style SYN)
    what: 'NOP-aligned SYN',
    hex: '020405b401010402010303000101080aed372c4800000000',
    options: [
      { kind: 'mss', value: 1460 },
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'sack-permitted' },
      { kind: 'nop' },
      { kind: 'wscale', shift: 0 },
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'timestamps', tsVal: 3979816008, tsEcr: 0 },
    ],
    tcpdump: 'mss 1460,nop,nop,sackOK,nop,wscale 0,nop,nop,TS val 3979816008 ecr 0',
  },
  {
    // zeek-irc-353-null.pcap frame 3, bytes 44..68 (macOS: sackOK last, then EOL and one zero byte)
    what: 'macOS SYN ending in EOL',
    hex: '02043fd8010303050101080a32c61c300000000004020000',
    options: [
      { kind: 'mss', value: 16344 },
      { kind: 'nop' },
      { kind: 'wscale', shift: 5 },
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'timestamps', tsVal: 851844144, tsEcr: 0 },
      { kind: 'sack-permitted' },
      { kind: 'eol' },
    ],
    // tcpdump, frame 3: "options [mss 16344,nop,wscale 5,nop,nop,TS val 851844144 ecr 0,sackOK,eol]"
    tcpdump: 'mss 16344,nop,wscale 5,nop,nop,TS val 851844144 ecr 0,sackOK,eol',
  },
  {
    // zeek-tcp-qi-synack-curl-sack.pcap frame 13, bytes 54..78
    what: 'one SACK block',
    hex: '0101080a249f34cbed372c490101050a27387c7527387c76',
    options: [
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'timestamps', tsVal: 614413515, tsEcr: 3979816009 },
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'sack', blocks: [[658013301, 658013302]] },
    ],
    tcpdump: 'nop,nop,TS val 614413515 ecr 3979816009,nop,nop,sack 1 {658013301:658013302}',
  },
  {
    // sv-syn-retransmit-with-ts.pcap frame 53, bytes 58..90
    what: 'two SACK blocks',
    hex: '0101080a05313f6d05307b62010105125a36321a5a3637c25a35dd425a362c72',
    options: [
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'timestamps', tsVal: 87113581, tsEcr: 87063394 },
      { kind: 'nop' },
      { kind: 'nop' },
      {
        kind: 'sack',
        blocks: [
          [1513501210, 1513502658],
          [1513479490, 1513499762],
        ],
      },
    ],
    tcpdump: 'nop,nop,TS val 87113581 ecr 87063394,nop,nop,sack 2 {1513501210:1513502658}{1513479490:1513499762}',
  },
  {
    // sv-syn-retransmit-with-ts.pcap frame 66, bytes 58..98
    what: 'three SACK blocks',
    hex: '0101080a05313f6e05307b630101051a5a367ba25a36814a5a3659b25a3675fa5a36321a5a36540a',
    options: [
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'timestamps', tsVal: 87113582, tsEcr: 87063395 },
      { kind: 'nop' },
      { kind: 'nop' },
      {
        kind: 'sack',
        blocks: [
          [1513520034, 1513521482],
          [1513511346, 1513518586],
          [1513501210, 1513509898],
        ],
      },
    ],
    tcpdump:
      'nop,nop,TS val 87113582 ecr 87063395,nop,nop,sack 3 {1513520034:1513521482}{1513511346:1513518586}{1513501210:1513509898}',
  },
  {
    // zeek-tcp-fast-open.pcap frame 1, bytes 54..78: pre-RFC TFO cookie request in kind 254
    what: 'experimental TFO cookie request',
    hex: '020405b40402080a00d968a30000000001030307fe04f989',
    options: [
      { kind: 'mss', value: 1460 },
      { kind: 'sack-permitted' },
      { kind: 'timestamps', tsVal: 14248099, tsEcr: 0 },
      { kind: 'nop' },
      { kind: 'wscale', shift: 7 },
      { kind: 'fast-open-exp', cookie: new Uint8Array(0) },
    ],
    tcpdump: 'mss 1460,sackOK,TS val 14248099 ecr 0,nop,wscale 7,exp-tfo cookiereq',
  },
  {
    // zeek-tcp-fast-open.pcap frame 2, bytes 54..86: the cookie in the SYN-ACK
    what: 'experimental TFO cookie',
    hex: '020405b40402080afffff8f600d968a301030306fe0cf989261fb060cecab690',
    options: [
      { kind: 'mss', value: 1460 },
      { kind: 'sack-permitted' },
      { kind: 'timestamps', tsVal: 4294965494, tsEcr: 14248099 },
      { kind: 'nop' },
      { kind: 'wscale', shift: 6 },
      { kind: 'fast-open-exp', cookie: fromHex('261fb060cecab690') },
    ],
    tcpdump: 'mss 1460,sackOK,TS val 4294965494 ecr 14248099,nop,wscale 6,exp-tfo cookie 261fb060cecab690',
  },
  {
    // sv-tfo-data-on-syn-nack-rawip.pcap frame 2, bytes 40..68: IANA kind 34
    what: 'TFO cookie (kind 34)',
    hex: '020405ac0402080a4093f17ad33e4c34010303082206da557faa0101',
    options: [
      { kind: 'mss', value: 1452 },
      { kind: 'sack-permitted' },
      { kind: 'timestamps', tsVal: 1083437434, tsEcr: 3544075316 },
      { kind: 'nop' },
      { kind: 'wscale', shift: 8 },
      { kind: 'fast-open', cookie: fromHex('da557faa') },
      { kind: 'nop' },
      { kind: 'nop' },
    ],
    // tcpdump 4.99.3 prints "tfo  cookie da557faa" (two spaces, an artefact of its printer); one here.
    tcpdump: 'mss 1452,sackOK,TS val 1083437434 ecr 3544075316,nop,wscale 8,tfo cookie da557faa,nop,nop',
  },
  {
    // zeek-tcp-truncated-header.pcap frame 1, bytes 54..68 (captured part): a timestamps option whose length
    // byte says 8 instead of 10 (tshark: "option length should be 10"); kept raw.
    what: 'timestamps with a lying length',
    hex: '020405b404020808000000010000',
    options: [
      { kind: 'mss', value: 1460 },
      { kind: 'sack-permitted' },
      { kind: 'unknown', type: 8, data: fromHex('000000010000') },
    ],
    tcpdump: 'mss 1460,sackOK,TS 0x000000010000[len 8]',
  },
];

describe('options on real bytes', () => {
  for (const v of VECTORS) {
    it(`parses ${v.what}`, () => {
      expect(opts(v.hex)).toEqual(v.options);
    });
    it(`emits ${v.what}`, () => {
      expect(emitOpts(v.options)).toBe(v.hex.slice(0, 2 * tcpOptionsLen(v.options)));
    });
    it(`formats ${v.what} as tcpdump does`, () => {
      expect(formatTcpOptions(v.options)).toBe(v.tcpdump);
    });
  }

  it('keeps the EOL padding of the macOS SYN implicit in the record', () => {
    // zeek-irc-353-null.pcap frame 3, TCP header bytes 24..68 (44 bytes; 24 of options, the last 2 zero).
    const h = 'ff6d1a0a20d5cb3b00000000b002fffffe34000002043fd8010303050101080a32c61c300000000004020000';
    const b = bytesOf(fromHex(h));
    const v = TcpPacket.check(b, 0, 44);
    if (isWireError(v)) throw new Error(v);
    const r = parseTcpRepr(v);
    if (isWireError(r)) throw new Error(r);
    expect(r.padding).toBeUndefined();
    expect(r.options.at(-1)).toEqual({ kind: 'eol' });
    expect(tcpReprHeaderLen(r)).toBe(44);
    const out = allocBytes(44, 0xa5);
    emitTcpRepr(r, out, 0, null);
    out.dv.setUint16(16, v.checksum);
    expect(hex(out.u8)).toBe(h);
  });
});

describe('tcpdump flag letters', () => {
  // The first frame with each distinct "Flags [..]" that tcpdump -n -S prints across /work/shared/pcaps.
  const seen: Array<[file: string, frame: number, tcpdump: string]> = [
    ['arkime-socks5-http-302-frag.pcap', 1, 'S'],
    ['arkime-socks5-http-302-frag.pcap', 2, 'S.'],
    ['arkime-socks5-http-302-frag.pcap', 3, '.'],
    ['arkime-socks5-http-302-frag.pcap', 4, 'P.'],
    ['arkime-socks5-http-302-frag.pcap', 69, 'F.'],
    ['ndpi-reddit-ipv6.pcap', 58, 'R'],
    ['sv-tfo-data-on-syn-nack-rawip.pcap', 23, 'FP.'],
    ['zeek-http-get-to-ssh-server-ns.pcap', 7, 'R.'],
    ['zeek-tcp-truncated-header.pcap', 1, 'SEW'],
  ];
  const cache = new Map<string, ReturnType<typeof corpusSegments>>();
  for (const [file, frame, want] of seen) {
    it(`${file} frame ${frame}: [${want}]`, () => {
      const segs = cache.get(file) ?? corpusSegments(file);
      cache.set(file, segs);
      const s = segs.find((x) => x.frame === frame);
      expect(s).toBeDefined();
      if (!s) return;
      // Flags live in bytes 12..13 even when the rest of the header was cut off.
      const v = TcpPacket.unchecked(s.b, s.tcpOff, s.available);
      expect(formatTcpFlags(v.flags)).toBe(want);
    });
  }

  it('prints AE as tcpdump does (e, last), and none for no flags', () => {
    // zeek-tcp-rst-inject-rae.pcap frame 2 has RST, ACK and AE (tshark: 0xf14 with the reserved bits).
    expect(formatTcpFlags(TcpFlags.RST | TcpFlags.ACK | TcpFlags.AE)).toBe('R.e');
    expect(formatTcpFlags(TcpFlags.SYN | TcpFlags.ACK | TcpFlags.ECE)).toBe('S.E');
    expect(formatTcpFlags(TcpFlags.URG | TcpFlags.ACK)).toBe('.U');
    expect(formatTcpFlags(0x1ff)).toBe('FSRP.UEWe');
    expect(formatTcpFlags(0)).toBe('none');
  });
});

describe('option walker', () => {
  // zeek-tcp-options.pcap frame 1, option bytes 54..74
  const linuxSyn = bytesOf(fromHex('020405b40402080affff54e90000000001030306'));

  it('finds each option body', () => {
    expect(findTcpOption(linuxSyn, 0, 20, TcpOptionKind.MSS)).toBe(2);
    expect(findTcpOption(linuxSyn, 0, 20, TcpOptionKind.SACK_PERMITTED)).toBe(6);
    expect(findTcpOption(linuxSyn, 0, 20, TcpOptionKind.TIMESTAMPS)).toBe(8);
    expect(findTcpOption(linuxSyn, 0, 20, TcpOptionKind.WSCALE)).toBe(19);
    expect(findTcpOption(linuxSyn, 0, 20, TcpOptionKind.SACK)).toBe(TCP_OPTION_ABSENT);
    expect(findTcpOption(linuxSyn, 0, 20, TcpOptionKind.NOP)).toBe(TCP_OPTION_ABSENT);
    expect(getTcpMss(linuxSyn, 0, 20)).toBe(1460);
    expect(getTcpWindowScale(linuxSyn, 0, 20)).toBe(6);
    expect(hasTcpSackPermitted(linuxSyn, 0, 20)).toBe(true);
    expect(findTcpTimestamps(linuxSyn, 0, 20)).toBe(8);
    expect(checkTcpOptions(linuxSyn, 0, 20)).toBeNull();
    // A range that stops inside an option makes that option malformed.
    expect(getTcpWindowScale(linuxSyn, 0, 19)).toBe(TCP_OPTION_MALFORMED);
    expect(getTcpMss(linuxSyn, 0, 19)).toBe(1460);
    expect(checkTcpOptions(linuxSyn, 0, 19)).toBe('bad-option');
  });

  it('stops at EOL: what follows is padding', () => {
    const b = bytesOf(fromHex('0000020405b4'));
    expect(getTcpMss(b, 0, 6)).toBe(TCP_OPTION_ABSENT);
    expect(checkTcpOptions(b, 0, 6)).toBeNull();
    expect(parseTcpOptions(b, 0, 6)).toEqual([{ kind: 'eol' }]);
    // Garbage after the EOL is not an error either.
    const g = bytesOf(fromHex('01000200ff'));
    expect(checkTcpOptions(g, 0, 5)).toBeNull();
    expect(parseTcpOptions(g, 0, 5)).toEqual([{ kind: 'nop' }, { kind: 'eol' }]);
  });

  it('reports malformed options, answering from the options before them', () => {
    for (const [h, why] of [
      ['0200', 'length 0'],
      ['0201', 'length 1'],
      ['0205000000', 'length 5 in a 5-byte space... fine'],
      ['0206000000', 'length past the end'],
      ['01010102', 'kind with no length byte'],
      ['080a0000000100000002ff', 'kind with no length byte after a good option'],
    ] as const) {
      const b = bytesOf(fromHex(h));
      const len = b.u8.length;
      if (why.endsWith('fine')) {
        expect(checkTcpOptions(b, 0, len)).toBeNull();
        continue;
      }
      expect([why, checkTcpOptions(b, 0, len)]).toEqual([why, 'bad-option']);
      expect([why, parseTcpOptions(b, 0, len)]).toEqual([why, 'bad-option']);
      expect([why, getTcpMss(b, 0, len)]).toEqual([why, TCP_OPTION_MALFORMED]);
    }
    // Options before the bad one are still read (as Linux's tcp_parse_options() does).
    const b = bytesOf(fromHex('020405b40300ffff'));
    expect(getTcpMss(b, 0, 8)).toBe(1460);
    expect(getTcpWindowScale(b, 0, 8)).toBe(TCP_OPTION_MALFORMED);
    expect(hasTcpSackPermitted(b, 0, 8)).toBe(false);
  });

  it('steps over a known kind of the wrong size', () => {
    // An MSS with length 3, then a proper one.
    const b = bytesOf(fromHex('020305' + '020405b4' + '01'));
    expect(findTcpOption(b, 0, 8, TcpOptionKind.MSS)).toBe(2);
    expect(getTcpMss(b, 0, 8)).toBe(1460);
    expect(opts(hex(b.u8))).toEqual([
      { kind: 'unknown', type: 2, data: fromHex('05') },
      { kind: 'mss', value: 1460 },
      { kind: 'nop' },
    ]);
    expect(formatTcpOptions(opts(hex(b.u8)))).toBe('mss 0x05[len 3],mss 1460,nop');
  });

  it('keeps odd kinds raw and names them as tcpdump does', () => {
    const o = opts('1e0400a1' + 'fe06abcd0102' + '9902' + 'fe03ff' + '2202' + '2203aa');
    expect(o).toEqual([
      { kind: 'unknown', type: 30, data: fromHex('00a1') },
      { kind: 'unknown', type: 254, data: fromHex('abcd0102') },
      { kind: 'unknown', type: 0x99, data: new Uint8Array(0) },
      { kind: 'unknown', type: 254, data: fromHex('ff') },
      { kind: 'fast-open', cookie: new Uint8Array(0) },
      { kind: 'fast-open', cookie: fromHex('aa') },
    ]);
    expect(formatTcpOptions(o)).toBe('mptcp 0x00a1,exp-abcd,unknown-153,exp 0xff,tfo cookiereq,tfo (invalid)');
  });

  it('never reads outside the range or the buffer', () => {
    const b = bytesOf(fromHex('01010204'));
    // The MSS body would be past the 4-byte buffer: malformed, not a read past the end.
    expect(getTcpMss(b, 0, 100)).toBe(TCP_OPTION_MALFORMED);
    expect(getTcpMss(b, 10, 10)).toBe(TCP_OPTION_ABSENT);
    expect(getTcpMss(b, -5, 3)).toBe(TCP_OPTION_ABSENT);
    expect(parseTcpOptions(b, 0, 100)).toBe('truncated');
  });

  it('never throws on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: -4, max: 70 }),
        fc.integer({ min: -4, max: 70 }),
        fc.integer({ min: 0, max: 256 }),
        (bytes, off, len, kind) => {
          const b: Bytes = bytesOf(bytes);
          const found = findTcpOption(b, off, len, kind);
          expect(found === TCP_OPTION_ABSENT || found === TCP_OPTION_MALFORMED || (found >= 2 && found <= bytes.length)).toBe(true);
          getTcpMss(b, off, len);
          getTcpWindowScale(b, off, len);
          hasTcpSackPermitted(b, off, len);
          findTcpTimestamps(b, off, len);
          checkTcpOptions(b, off, len);
          parseTcpOptions(b, off, len);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('agrees with the full parse on any option space (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const b = bytesOf(bytes);
        const len = bytes.length;
        const o = parseTcpOptions(b, 0, len);
        expect(checkTcpOptions(b, 0, len)).toBe(isWireError(o) ? 'bad-option' : null);
        if (isWireError(o)) {
          expect(o).toBe('bad-option');
          return;
        }
        const mss = o.find((x) => x.kind === 'mss');
        expect(getTcpMss(b, 0, len)).toBe(mss ? mss.value : TCP_OPTION_ABSENT);
        const ws = o.find((x) => x.kind === 'wscale');
        expect(getTcpWindowScale(b, 0, len)).toBe(ws ? ws.shift : TCP_OPTION_ABSENT);
        expect(hasTcpSackPermitted(b, 0, len)).toBe(o.some((x) => x.kind === 'sack-permitted'));
        const ts = o.find((x) => x.kind === 'timestamps');
        const at = findTcpTimestamps(b, 0, len);
        if (ts) expect([b.dv.getUint32(at), b.dv.getUint32(at + 4)]).toEqual([ts.tsVal, ts.tsEcr]);
        else expect(at).toBe(TCP_OPTION_ABSENT);
        // Re-emitted, the decoded options give back the bytes they came from.
        const n = tcpOptionsLen(o);
        expect(emitOpts(o)).toBe(hex(bytes.subarray(0, n)));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('malformed options in a record', () => {
  // zeek-tcp-options.pcap frame 3 (ACK with nop,nop,TS), its TS length byte changed from 10 to 1.
  const h = '8ffd0050df91fdfc2b28180d8010005cd64e00000101080111ff551919003c97';

  it('keeps the options before the bad one and the raw rest, and re-emits the same bytes', () => {
    const b = bytesOf(fromHex(h));
    const v = TcpPacket.check(b, 0, 32);
    expect(v).toBeInstanceOf(TcpPacket);
    if (isWireError(v)) return;
    expect(v.optionsError()).toBe('bad-option');
    const r = parseTcpRepr(v);
    if (isWireError(r)) throw new Error(r);
    expect(r.options).toEqual([{ kind: 'nop' }, { kind: 'nop' }]);
    expect(hex(r.malformedOptions ?? new Uint8Array(0))).toBe('080111ff551919003c97');
    const out = allocBytes(32, 0xa5);
    emitTcpRepr(r as TcpRepr, out, 0, null);
    out.dv.setUint16(16, v.checksum);
    expect(hex(out.u8)).toBe(h);
  });

  it('keeps padding that is not what emit would write', () => {
    // zeek-tcp-options.pcap frame 3's fixed header with other options: after [mss 1460, eol], the three
    // zero bytes up to the boundary are emit's own padding; four more (a data offset of 8 words), or a
    // non-zero byte, are not.
    const base = '8ffd0050df91fdfc2b28180d8010005cd64e0000';
    for (const [opt, offsetByte, padding] of [
      ['020405b4' + '00000000' + '00000000', '80', '00000000000000'],
      ['020405b4' + '00000000', '70', null],
      ['020405b4' + '0000ff00', '70', '00ff00'],
      ['00' + '010203', '60', '010203'],
    ] as const) {
      const h = base.slice(0, 24) + offsetByte + base.slice(26) + opt;
      const b = bytesOf(fromHex(h));
      const v = TcpPacket.check(b, 0, b.u8.length);
      if (isWireError(v)) throw new Error(v);
      expect(v.optionsError()).toBeNull();
      const r = parseTcpRepr(v);
      if (isWireError(r)) throw new Error(r);
      expect(r.options.at(-1)).toEqual({ kind: 'eol' });
      expect(r.padding === undefined ? null : hex(r.padding)).toBe(padding);
      const out = allocBytes(b.u8.length, 0xa5);
      expect(emitTcpRepr(r, out, 0, null)).toBe(b.u8.length);
      out.dv.setUint16(16, v.checksum);
      expect(hex(out.u8)).toBe(h);
    }
  });
});

/**
 * Dialect constructs beyond what the shared scripts use: nplab extensions, SACK and Fast Open options,
 * structs, opaque packets, and what `unsupportedOf` reports for each. Plus a generated round trip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventsFor, formatScript, parseScript, type Event, type PacketEvent, type Script, type SyscallEvent } from '../../src/script/index.js';
import { TcpFlags } from '../../src/wire/tcp.js';
import { errorsOf, parseOk, stripLocs } from './helpers.js';

function events(s: Script): Event[] {
  return s.items.flatMap((i) => (i.kind === 'ifdef' ? [...i.items] : [i]));
}

function only<T extends Event['kind']>(text: string, kind: T): Extract<Event, { kind: T }> {
  const { script } = parseOk(text);
  const e = events(script)[0];
  if (e === undefined || e.kind !== kind) return expect.fail(`expected one ${kind} event`);
  return e as Extract<Event, { kind: T }>;
}

function packet(line: string): PacketEvent {
  return only(`0 ${line}\n`, 'packet');
}

function syscall(line: string): SyscallEvent {
  return only(`0 ${line}\n`, 'syscall');
}

/** The `what` of every unsupported finding. */
function unsupported(text: string): string[] {
  const r = parseScript(text, 'u.pkt');
  if (!r.ok) return expect.fail(r.errors.map((e) => e.message).join('\n'));
  return r.unsupported.map((u) => u.what);
}

describe('time specs', () => {
  it('reads every form, in exact microseconds', () => {
    const { script } = parseOk(
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0.000001 close(3) = 0\n1.2345678 close(4) = 0\n* > S 0:0(0) <...>\n' +
        '2~2.5 > S 0:0(0) <...>\n+0~+.04 > . 1:1(0) ack 1\n+ 1.00 close(5) = 0\n',
    );
    expect(stripLocs(events(script).map((e) => e.time))).toEqual([
      { kind: 'absolute', usecs: 0 },
      { kind: 'relative', usecs: 1 },
      { kind: 'absolute', usecs: 1_234_567 }, // digits past 1 µs are dropped
      { kind: 'any' },
      { kind: 'absolute-range', startUsecs: 2_000_000, endUsecs: 2_500_000 },
      { kind: 'relative-range', startUsecs: 0, endUsecs: 40_000 },
      { kind: 'relative', usecs: 1_000_000 },
    ]);
  });

  it('reads blocking calls with their end time, on the same base as the start', () => {
    expect(syscall('...0.2 accept(3, ..., ...) = 4').blockingEnd?.usecs).toBe(200_000);
    const { script } = parseOk('0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+.1...0.200 connect(3, ..., ...) = 0\n');
    const c = events(script)[1] as SyscallEvent;
    expect([c.time.kind, c.blockingEnd?.usecs]).toEqual(['relative', 200_000]);
  });

  it('does not carry times out of an #ifdef block that may not run', () => {
    parseOk('0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n#ifdef A\n1 close(3) = 0\n#endif\n0.5 close(4) = 0\n');
    expect(errorsOf('#ifdef A\n1 close(3) = 0\n0.5 close(4) = 0\n#endif\n')).toEqual([
      'broken.pkt:3:1: time goes backwards: 0.5 is before the previous event (at 1)',
    ]);
  });
});

describe('packets', () => {
  it('maps flag letters to TcpFlags bits', () => {
    expect(packet('< - 1:1001(1000) win 100').flags).toMatchObject({ text: '', bits: 0 });
    expect(packet('< SR 0:0(0) win 100').flags.bits).toBe(TcpFlags.SYN | TcpFlags.RST);
    expect(packet('> FP. 1:1(0) ack 1').flags.bits).toBe(TcpFlags.FIN | TcpFlags.PSH | TcpFlags.ACK);
    expect(packet('> SEW 0:0(0)').flags.bits).toBe(TcpFlags.SYN | TcpFlags.ECE | TcpFlags.CWR);
    expect(packet('> .AU 1:1(0) ack 1 urg 5').flags.bits).toBe(TcpFlags.ACK | TcpFlags.AE | TcpFlags.URG);
    // An AccECN ACE digit: 5 = AE and ECE (RFC 9768 §3.2.2).
    const ace = packet('> S.5 0:0(0) ack 1').flags;
    expect(ace).toMatchObject({ text: 'S.5', ace: 5, bits: TcpFlags.SYN | TcpFlags.ACK | TcpFlags.AE | TcpFlags.ECE });
  });

  it('reads nplab sequence forms: ...(n) and the absolute A:B(n)!', () => {
    expect(stripLocs(packet('> . ...(1000) ack 1').seq)).toEqual({ kind: 'any', length: 1000 });
    expect(stripLocs(packet('< S 17:17(0)! win 100').seq)).toEqual({ kind: 'range', start: 17, end: 17, length: 0, absolute: true });
  });

  it('reads every TCP option form', () => {
    const p = packet('> . 1:1(0) ack 1 <nop,nop,sack 1:1001 2001:3001,eol,eol,eol,eol>');
    expect(stripLocs(p.options)).toEqual({
      kind: 'list',
      options: [
        { kind: 'nop' },
        { kind: 'nop' },
        { kind: 'sack', blocks: [{ left: 1, right: 1001 }, { left: 2001, right: 3001 }] },
        { kind: 'eol' },
        { kind: 'eol' },
        { kind: 'eol' },
        { kind: 'eol' },
      ],
    });
    expect(stripLocs(packet('> S 0:0(0) <mss 1460,nop,wscale 7,FO abcd1234,nop,nop>').options)).toMatchObject({
      options: [{}, {}, {}, { kind: 'fast-open', experimental: false, cookie: 'abcd1234' }, {}, {}],
    });
    expect(stripLocs(packet('> S 0:0(0) <FOEXP,nop,nop,nop,nop>').options)).toMatchObject({
      options: [{ kind: 'fast-open', experimental: true, cookie: '' }, {}, {}, {}, {}],
    });
    expect(stripLocs(packet('< . 1:1(0) ack 1 win 100 <nop,nop,TS val ... ecr 100!>').options)).toEqual({
      kind: 'list',
      options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', val: null, ecr: 100, ecrAbsolute: true }],
    });
    expect(stripLocs(packet('< S 0:0(0) win 100 <020405b4>').options)).toEqual({ kind: 'raw', hex: '020405b4' });
    expect(stripLocs(packet('> S 0:0(0) <...>').options)).toEqual({ kind: 'any' });
    expect(packet('> R 1:1(0)').options).toEqual({ kind: 'none' });
  });

  it('reads explicit ports and IP header expectations', () => {
    const p = packet('< (ect0) 8080>1234 S 0:0(0) win 100');
    expect([p.ipInfo?.text, p.ipInfo?.bracket, p.ports?.src, p.ports?.dst]).toEqual(['ect0', '(', 8080, 1234]);
    expect(packet('> [tos 0x10] . 1:1(0) ack 1').ipInfo?.text).toBe('tos 0x10');
  });

  it('keeps non-TCP packets as text', () => {
    const e = only('0 < icmp unreachable port_unreachable [1:1(0)]\n', 'opaque');
    expect([e.what, e.text]).toEqual(['ICMP packet', '< icmp unreachable port_unreachable [1:1(0)]']);
  });
});

describe('system calls', () => {
  it('reads results, errnos and notes', () => {
    const c = syscall('connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)');
    expect(stripLocs([c.result, c.errno, c.note])).toEqual([{ kind: 'int', value: -1, hex: false }, { name: 'EINPROGRESS' }, 'Operation now in progress']);
    const f = syscall('fcntl(3, F_GETFL) = 0x02 (flags O_RDWR)');
    expect(stripLocs([f.result, f.errno, f.note])).toEqual([{ kind: 'int', value: 2, hex: true }, null, 'flags O_RDWR']);
    expect(syscall('close(3) = -1 ECONNREFUSED').note).toBeNull();
  });

  it('reads | expressions, arrays with errno names, structs and calls', () => {
    expect(stripLocs(syscall('fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0').args[2])).toEqual({
      kind: 'or',
      terms: [{ kind: 'word', name: 'O_RDWR' }, { kind: 'word', name: 'O_NONBLOCK' }],
    });
    expect(stripLocs(syscall('getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0').args.slice(3))).toEqual([
      { kind: 'list', items: [{ kind: 'word', name: 'ECONNRESET' }] },
      { kind: 'list', items: [{ kind: 'int', value: 4, hex: false }] },
    ]);
    expect(stripLocs(syscall('setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0').args[3])).toEqual({
      kind: 'struct',
      items: [
        { kind: 'field', name: 'onoff', value: { kind: 'int', value: 1, hex: false } },
        { kind: 'field', name: 'linger', value: { kind: 'int', value: 0, hex: false } },
      ],
    });
    const poll = syscall('poll([{fd=4, events=POLLOUT, revents=POLLOUT}], 1, 1000) = 1');
    expect(formatScript({ file: 'x', options: [], init: null, items: [poll], cleanup: null, comments: [] })).toBe(
      '0 poll([{fd=4, events=POLLOUT, revents=POLLOUT}], 1, 1000) = 1\n',
    );
    const bind = syscall('bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = 0');
    expect(stripLocs(bind.args[1])).toMatchObject({
      kind: 'struct',
      items: [{}, { value: { kind: 'call', name: 'htons' } }, { value: { kind: 'call', name: 'inet_addr', args: [{ kind: 'string', value: '192.0.2.1' }] } }],
    });
    expect(stripLocs(syscall('write(4, "hello"..., 5) = 5').args[1])).toEqual({ kind: 'string', value: 'hello', ellipsis: true });
  });
});

describe('code blocks', () => {
  it('reads state and MSS assertions', () => {
    const e = only('0 %{ assert tcpi_state != TCP_TIME_WAIT\nassert tcpi_snd_mss == 1448 }%\n', 'code');
    expect(stripLocs(e.body)).toEqual({
      kind: 'assertions',
      assertions: [
        { kind: 'tcpi-state', op: '!=', symbol: 'TCP_TIME_WAIT', state: 'TIME-WAIT', message: null },
        { kind: 'tcpi-value', field: 'tcpi_snd_mss', op: '==', value: 1448, message: null },
      ],
    });
    expect(e.body.kind === 'assertions' ? e.body.assertions[1]?.loc : null).toEqual({ file: 'test.pkt', line: 2, column: 1 });
  });

  it('keeps any other Python as unsupported, pointing at the statement', () => {
    const r = parseScript('0 %{ assert tcpi_state == TCPI_LISTEN; print(tcpi_rtt) }%\n', 'p.pkt');
    expect(r.ok && r.unsupported).toEqual([{ loc: { file: 'p.pkt', line: 1, column: 40 }, what: "Python statement 'print(tcpi_rtt)'" }]);
    expect(unsupported('0 %{ assert tcpi_rtt == 100 }%\n')).toEqual(["Python statement 'assert tcpi_rtt == 100'"]);
    expect(unsupported('0 %{ assert tcpi_state == TCPI_BOGUS }%\n')).toEqual(["Python statement 'assert tcpi_state == TCPI_BOGUS'"]);
  });
});

describe('shell commands', () => {
  it('reads sysctls, FreeBSD and Linux, and the sockstat and tcpdrop shapes', () => {
    const e = only('0 `sysctl -q -w net.ipv4.tcp_timestamps=0; sysctl -w net.ipv4.tcp_sack=0 && sockstat -6 -P tcp -p 8080 -s | grep -c ESTABLISHED | grep 2`\n', 'shell');
    expect(stripLocs(e.command.steps)).toEqual([
      { kind: 'sysctl-set', name: 'net.ipv4.tcp_timestamps', value: '0' },
      { kind: 'sysctl-set', name: 'net.ipv4.tcp_sack', value: '0' },
      { kind: 'socket-count', family: 6, port: 8080, state: 'ESTABLISHED', count: 2 },
    ]);
  });

  it('reports what it does not run', () => {
    expect(unsupported('0 `ip route change local 192.168.0.1 advmss 1100`\n')).toEqual(['shell command `ip route change local 192.168.0.1 advmss 1100`']);
    expect(unsupported('0 `sysctl -w net.inet.tcp.cc.algorithm=cubic`\n')).toEqual(['sysctl net.inet.tcp.cc.algorithm']);
    expect(unsupported('0 `sysctl -w net.inet.tcp.blackhole=2`\n')).toEqual(['sysctl net.inet.tcp.blackhole=2']);
    expect(unsupported('0 `sysctl net.inet.tcp.rfc1323`\n')).toEqual(['shell command `sysctl net.inet.tcp.rfc1323`']);
    expect(unsupported('0 `echo "a" > /tmp/x`\n')).toEqual(['shell command `echo "a" > /tmp/x`']);
  });
});

describe('what unsupportedOf reports', () => {
  it('names each construct, in source order', () => {
    const text = [
      '--wire_client',
      '--ip_version=ipv4-mapped-ipv6',
      '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
      '+0 setsockopt(3, SOL_TCP, TCP_CONGESTION, "reno", 4) = 0',
      '+0 epoll_create(1) = 4',
      '+0 > S 0:0(0) <mss 1460,nop,nop,sackOK,nop,wscale 7,FO,nop,nop>',
      '+0 < (ect0) S. 0:0(0) ack 1 win 100',
      '+0 < 1234>8080 . 1:1(0) ack 1 win 100',
      '+0 > S.1 0:0(0) ack 1',
      '+0 < icmp unreachable port_unreachable',
      '+0 > . 1:1(0) ack 1 <md5 00112233445566778899aabbccddeeff,nop,nop>',
      '+0 > . 1:1(0) ack 1 <020405b4>',
      '',
    ].join('\n');
    expect(unsupported(text)).toEqual([
      'option --wire_client',
      'option --ip_version=ipv4-mapped-ipv6',
      'symbol TCP_CONGESTION',
      'system call epoll_create',
      'TCP option FO (TCP Fast Open)',
      'IP header expectation (ect0)',
      'explicit port numbers',
      'AccECN ACE value in the flags',
      'ICMP packet',
      'TCP option md5',
      'TCP options as raw hex',
    ]);
  });
});

describe('eventsFor', () => {
  it('keeps an #ifdef block only when its name is defined', () => {
    const { script } = parseOk('0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n#ifdef Linux\n+0 close(3) = 0\n#endif\n#ifdef FreeBSD\n+0 close(4) = 0\n#endif\n');
    const names = (defs: string[]): string[] => eventsFor(script, new Set(defs)).map((e) => (e.kind === 'syscall' ? `${e.name}(${e.args.length})` : e.kind));
    expect(names([])).toEqual(['socket(3)']);
    expect(names(['Linux'])).toEqual(['socket(3)', 'close(1)']);
    expect(eventsFor(script, new Set(['FreeBSD'])).map((e) => e.loc.line)).toEqual([1, 6]);
  });
});

describe('formatScript', () => {
  it('prints a script with every construct and comments where they were, and reads it back', () => {
    const text = [
      '/* header */',
      '--tolerance_usecs=10000',
      '--remote_ip="192.0.2.2"',
      '`../common/defaults.sh`',
      '',
      '// the connection',
      '0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 // trailing',
      '+0...0.200 accept(3, ..., ...) = 4',
      '*  >  S.  0:0(0)   ack 1 <...>',
      '0.1~0.3 > . ...(0) ack 1 win 0',
      '+0 < (ect0) - 1:1001(1000)! win 100 <nop,nop,TS val ... ecr 7!>',
      '#ifdef FreeBSD',
      '+0 %{ assert tcpi_state == TCPI_ESTABLISHED, "x" }%',
      '// inside',
      '#endif',
      '+0 < udp (1000)',
      '`/tmp/sysctl_restore_${PPID}.sh`',
      '',
    ].join('\n');
    const { script } = parseOk(text);
    const printed = formatScript(script);
    expect(printed).toBe(
      [
        '/* header */',
        '--tolerance_usecs=10000',
        '--remote_ip=192.0.2.2',
        '`../common/defaults.sh`',
        '',
        '// the connection',
        '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 // trailing',
        '+0...0.2 accept(3, ..., ...) = 4',
        '* > S. 0:0(0) ack 1 <...>',
        '0.1~0.3 > . ...(0) ack 1 win 0',
        '+0 < (ect0) - 1:1001(1000)! win 100 <nop,nop,TS val ... ecr 7!>',
        '#ifdef FreeBSD',
        '+0 %{ assert tcpi_state == TCPI_ESTABLISHED, "x" }%',
        '// inside',
        '#endif',
        '+0 < udp (1000)',
        '`/tmp/sysctl_restore_${PPID}.sh`',
        '',
      ].join('\n'),
    );
    expect(stripLocs(parseOk(printed).script)).toEqual(stripLocs(script));
  });
});

// Generated packet and system-call lines: parse → print → parse gives the same tree.
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const time = fc.oneof(
  fc.integer({ min: 0, max: 5_000_000 }).map((us) => `+${us / 1e6}`),
  fc.constant('+0'),
  fc.constant('+.5'),
);
const flags = fc.constantFrom('S', 'S.', '.', 'P.', 'F.', 'R', 'R.', 'FP.', 'SEW', '-', 'SR');
const option = fc.oneof(
  fc.constantFrom('nop', 'eol', 'sackOK'),
  u16.map((v) => `mss ${v}`),
  fc.integer({ min: 0, max: 14 }).map((v) => `wscale ${v}`),
  fc.tuple(u32, u32).map(([v, e]) => `TS val ${v} ecr ${e}`),
  fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 3 }).map((bs) => `sack ${bs.map(([a, b]) => `${a}:${b}`).join(' ')}`),
);
function optionSize(o: string): number {
  if (o === 'nop' || o === 'eol') return 1;
  if (o === 'sackOK') return 2;
  if (o.startsWith('mss')) return 4;
  if (o.startsWith('wscale')) return 3;
  if (o.startsWith('TS')) return 10;
  return 2 + 8 * (o.split(' ').length - 1); // sack A:B C:D ...
}
/** Pads a list to a multiple of 4 bytes with nops, as scripts must. */
function padded(opts: string[]): string {
  let total = opts.reduce((s, o) => s + optionSize(o), 0);
  const out = [...opts];
  while (total % 4 !== 0) {
    out.push('nop');
    total++;
  }
  return out.join(',');
}
const packetLine = fc
  .record({
    time,
    dir: fc.constantFrom('<', '>'),
    flags,
    start: fc.integer({ min: 0, max: 0xffff0000 }),
    len: fc.integer({ min: 0, max: 2000 }),
    ack: fc.option(u32),
    win: u16,
    // At most 40 bytes once padded (a TCP header's limit).
    opts: fc.option(fc.array(option, { minLength: 1, maxLength: 3 }).filter((o) => o.reduce((s, x) => s + optionSize(x), 0) <= 37)),
  })
  .map((r) => {
    const seq = `${r.start}:${r.start + r.len}(${r.len})`;
    const ack = r.ack === null ? '' : ` ack ${r.ack}`;
    const opts = r.opts === null ? '' : ` <${padded(r.opts)}>`;
    return `${r.time} ${r.dir} ${r.flags} ${seq}${ack} win ${r.win}${opts}`;
  });
const callLine = fc
  .record({
    time,
    call: fc.constantFrom(
      'close(3) = 0',
      'listen(3, 1) = 0',
      'connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)',
      'getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0',
      'fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0',
    ),
  })
  .map((r) => `${r.time} ${r.call}`);

describe('generated scripts round-trip', () => {
  it('parse(format(parse(text))) equals parse(text)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(packetLine, callLine), { minLength: 1, maxLength: 8 }), (lines) => {
        const text = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n${lines.join('\n')}\n`;
        const r = parseScript(text, 'gen.pkt');
        if (!r.ok) throw new Error(`${text}\n${r.errors.map((e) => e.message).join('\n')}`);
        const again = parseScript(formatScript(r.script), 'gen.pkt');
        expect(again.ok && stripLocs(again.script)).toEqual(stripLocs(r.script));
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * The packetdrill runner, feature by feature, on small inline scripts: what passes, and what fails with
 * exactly packetdrill's message (wrong field, wrong options, wrong errno, late, early and missing
 * packets, extra packets under --strict), sysctls, assertions, shell steps, #ifdef, blocking calls,
 * aggregation and GSO, timestamps, and the judgement of runner self-tests.
 */
import { describe, expect, it } from 'vitest';
import { formatRunResult, judge, parseScript, runScript, type RunOptions, type RunResult, type Script } from '../../src/script/index.js';
import { applySysctl, personalityByName, sysctlProblem, type Knobs } from '../../src/script/env.js';
import { LINUX_LISTEN_DEFAULTS } from '../../src/socket/queues.js';

function parse(text: string): Script {
  const r = parseScript(text, 't.pkt');
  if (!r.ok) return expect.fail(r.errors.map((e) => `${e.loc.line}:${e.loc.column} ${e.message}`).join('\n'));
  return r.script;
}

function run(text: string, options: RunOptions = {}): RunResult {
  return runScript(parse(text), options);
}

function passes(text: string, options: RunOptions = {}): RunResult {
  const r = run(text, options);
  if (r.status !== 'pass') expect.fail(formatRunResult(r, { traceLines: 40 }));
  return r;
}

/** The failure's line and message. */
function fails(text: string, options: RunOptions = {}): { line: number; message: string; expected: string | null; actual: string | null } {
  const r = run(text, options);
  if (r.status !== 'fail') return expect.fail(`expected a failure, got ${r.status}:\n${formatRunResult(r)}\n${r.log.join('\n')}`);
  return { line: r.failure.loc.line, message: r.failure.message, expected: r.failure.expected, actual: r.failure.actual };
}

// A passive open on a Linux host without defaults.sh (tcp_rmem[2] 32 MiB: wscale 10).
const LISTEN = `
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
`;
const HANDSHAKE = `${LISTEN}
+.1 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 10>
+.1 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
`;

// An active open on FreeBSD (non-blocking connect).
const CONNECT_FREEBSD = `
--tolerance_usecs=50000
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) win 65535 <mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0>
+.1 < S. 0:0(0) ack 1 win 32767 <mss 1460,sackOK,eol,eol>
+0 > . 1:1(0) ack 1 win 65535
`;

describe('packets', () => {
  it('runs a passive open, a write and the peer ACK', () => {
    const r = passes(`${HANDSHAKE}
+.1 write(4, ..., 1000) = 1000
+0 > P. 1:1001(1000) ack 1
+.01 < . 1:1(0) ack 1001 win 257
`);
    expect(r.stats).toEqual({ events: 11, outbound: 2, inbound: 3, syscalls: 6 });
  });

  it('reads the peer SYN seq as absolute and later ones as relative to it', () => {
    passes(`${LISTEN}
+0 < S 17:17(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 18 <mss 1460,nop,wscale 10>
+0 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
+0 < P. 1:11(10) ack 1 win 257
+0 > . 1:1(0) ack 11
`);
  });

  it('fails on a field that differs, naming it as packetdrill does, with both packets', () => {
    const f = fails(`${LISTEN}
+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 2 <mss 1460,nop,wscale 10>
`);
    expect(f.line).toBe(8);
    expect(f.message).toBe('error handling packet: live packet field tcp_ack_seq: expected: 2 (0x2) vs actual: 1 (0x1)');
    expect(f.expected).toBe('0.100000 > S. 0:0(0) ack 2 <mss 1460,nop,wscale 10>');
    expect(f.actual).toBe('0.100000 S. 0:0(0) ack 1 win 64240 <mss 1460,nop,wscale 10>');
  });

  it('checks the window only where the line gives one', () => {
    passes(`${LISTEN}
+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 win 64240 <mss 1460,nop,wscale 10>
`);
    expect(
      fails(`${LISTEN}
+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 win 29200 <mss 1460,nop,wscale 10>
`).message,
    ).toBe('error handling packet: live packet field tcp_window: expected: 29200 (0x7210) vs actual: 64240 (0xfaf0)');
  });

  it('compares option kinds in order and their values; <...> accepts any; none means none', () => {
    const base = `${LISTEN}\n+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>\n`;
    expect(fails(`${base}+0 > S. 0:0(0) ack 1 <nop,wscale 10,mss 1460>\n`).message).toBe('error handling packet: bad outbound TCP options');
    expect(fails(`${base}+0 > S. 0:0(0) ack 1 <mss 1400,nop,wscale 10>\n`).message).toBe('error handling packet: bad value outbound TCP option 2');
    expect(fails(`${base}+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>\n`).message).toBe('error handling packet: bad value outbound TCP option 3');
    passes(`${base}+0 > S. 0:0(0) ack 1 <...>\n`);
    // No list: no options at all (the IP length says so first, as in packetdrill).
    expect(fails(`${base}+0 > S. 0:0(0) ack 1\n`).message).toBe('error handling packet: live packet field ipv4_total_length: expected: 40 (0x28) vs actual: 48 (0x30)');
  });

  it('fails when a packet never comes (Timed out), comes early, or comes late', () => {
    // Nothing answers a segment that is acceptable and carries nothing.
    const missing = fails(`${HANDSHAKE}
+.1 < . 1:1(0) ack 1 win 257
+0 > . 1:1(0) ack 1
`);
    expect(missing).toMatchObject({ line: 13, message: 'error handling packet: Timed out waiting for packet' });
    // The SYN-ACK goes at once, not after 100 ms.
    expect(
      fails(`${LISTEN}
+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+.1 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 10>
`).message,
    ).toBe('error handling packet: timing error: expected outbound packet at 0.200000 sec but happened at 0.100000 sec; tolerance 0.012500 sec');
    // Linux delays the ACK of a FIN after data (tcp_basic_server.pkt: +.04).
    const late = `${HANDSHAKE}
+0 < P. 1:1001(1000) ack 1 win 257
+0 > . 1:1(0) ack 1001
+0 < F. 1001:1001(0) ack 1 win 257
+0 > . 1:1(0) ack 1002
`;
    expect(fails(late).message).toBe('error handling packet: timing error: expected outbound packet at 0.200000 sec but happened at 0.240000 sec; tolerance 0.004000 sec');
    passes(late.replace('+0 > . 1:1(0) ack 1002', '+.04 > . 1:1(0) ack 1002'));
    // A range, and a larger tolerance, accept it.
    passes(late.replace('+0 > . 1:1(0) ack 1002', '+0~+.05 > . 1:1(0) ack 1002'));
    passes(`--tolerance_usecs=40000\n${late}`);
  });

  it('ignores segments no line expects, unless --strict', () => {
    // The ACK of the data is not in the script.
    const text = `${HANDSHAKE}
+0 < P. 1:1001(1000) ack 1 win 257
+.1 read(4, ..., 1000) = 1000
`;
    passes(text);
    const f = fails(text, { strict: true });
    expect(f.line).toBe(13);
    expect(f.message).toBe('error handling packet: unexpected outbound packet (strict): no outbound line matched the segment sent at 0.200000 sec before this event');
    expect(f.actual).toMatch(/^198\.18\.0\.1:8080 > 198\.18\.0\.2:\d+ \. \d+:\d+\(0\) ack 1001 win \d+$/);
    // The same at the end of a script.
    expect(fails(`${HANDSHAKE}\n+0 < P. 1:1001(1000) ack 1 win 257\n`, { strict: true }).message).toMatch(/sent at 0\.200000 sec by the end of the script$/);
  });

  it('aggregates a burst into one line unless --strict_segments', () => {
    const text = `${HANDSHAKE}
+.1 write(4, ..., 2000) = 2000
+0 > P. 1:2001(2000) ack 1
`;
    passes(text);
    expect(fails(`--strict_segments\n${text}`).message).toBe('error handling packet: live packet payload: expected 2000 bytes vs actual 1000 bytes');
  });

  it('takes --mss as the GSO size of inbound packets: one as long is a plain segment, a longer one unsupported', () => {
    const text = (len: number): string => `--mss=1000
${HANDSHAKE}
+0 < P. 1:${len + 1}(${len}) ack 1 win 257
+0 > . 1:1(0) ack ${len + 1}
`;
    passes(text(1000));
    const r = run(text(2000));
    expect(r.status === 'unsupported' ? r.unsupported.map((u) => `${u.loc.line} ${u.what}`) : r.status).toEqual(['13 an inbound segment of 2000 octets with --mss=1000 (a GSO packet)']);
  });

  it('maps an inbound TS ecr to the TS val it echoes, and fails on one nothing sent', () => {
    const ts = `${LISTEN}
+.1 < S 0:0(0) win 20000 <mss 1000,sackOK,TS val 100 ecr 0>
+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100>
`;
    passes(`${ts}+.1 < . 1:1(0) ack 1 win 20000 <nop,nop,TS val 200 ecr 100>\n+0 accept(3, ..., ...) = 4\n`);
    expect(fails(`${ts}+.1 < . 1:1(0) ack 1 win 20000 <nop,nop,TS val 200 ecr 5>\n`).message).toBe(
      'error handling packet: unable to infer live TS ecr for script TS ecr 5;  no matching or preceding outbound TS val',
    );
  });

  it('compares TS val, relative to the first one, only with --tcp_ts_tick_usecs', () => {
    const text = (val: number): string => `--tcp_ts_tick_usecs=1000
--tolerance_usecs=7000
${LISTEN}
+0 < S 0:0(0) win 20000 <mss 1000,sackOK,TS val 100 ecr 0>
+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100>
+.1 < . 1:1(0) ack 1 win 20000 <nop,nop,TS val 200 ecr 100>
+0 accept(3, ..., ...) = 4
+1 close(4) = 0
+0 > F. 1:1(0) ack 1 <nop,nop,TS val ${val} ecr 200>
`;
    passes(text(1200));
    expect(fails(text(1300)).message).toBe('error handling packet: bad outbound TCP timestamp value, tolerance 7000');
    passes(text(1300).replace('--tcp_ts_tick_usecs=1000\n', ''));
  });

  it('sends a reset for a segment to a closed port, our ISN taken as 0', () => {
    passes(
      `
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+.1 < . 17:20(3) ack 34 win 32767
+0 > R 34:34(0) win 0
`,
      { personality: 'freebsd' },
    );
  });
});

describe('system calls', () => {
  it('checks results and errnos with packetdrill\'s messages', () => {
    expect(fails('0 socket(..., SOCK_STREAM, IPPROTO_UDP) = 3\n').message).toBe(
      'runtime error in socket call: Expected non-negative result but got -1 with errno 93 (Protocol not supported)',
    );
    const f = fails(`${CONNECT_FREEBSD.replace('= -1 EINPROGRESS', '= -1 ECONNREFUSED')}`, { personality: 'freebsd' });
    expect(f).toMatchObject({ line: 5, message: 'runtime error in connect call: Expected errno 111 (Connection refused) but got 115 (Operation now in progress)' });
    expect(f.expected).toBe('= -1 ECONNREFUSED');
    expect(f.actual).toBe('= -1 EINPROGRESS (Operation now in progress)');
    expect(fails(CONNECT_FREEBSD.replace('= -1 EINPROGRESS (Operation now in progress)', '= 0'), { personality: 'freebsd' }).message).toBe(
      'runtime error in connect call: Expected result 0 but got -1 with errno 115 (Operation now in progress)',
    );
    // EWOULDBLOCK is EAGAIN.
    passes(`${HANDSHAKE}+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 read(4, ..., 100) = -1 EWOULDBLOCK (Operation would block)\n`);
  });

  it('compares the values getsockopt and ioctl give', () => {
    passes(`${HANDSHAKE}+0 getsockopt(4, SOL_TCP, TCP_MAXSEG, [1000], [4]) = 0\n`);
    expect(fails(`${HANDSHAKE}+0 getsockopt(4, SOL_TCP, TCP_MAXSEG, [1460], [4]) = 0\n`).message).toBe(
      'runtime error in getsockopt call: Bad getsockopt optval: expected: 1460 actual: 1000',
    );
    expect(fails(`${HANDSHAKE}+0 < P. 1:101(100) ack 1 win 257\n+0 ioctl(4, SIOCINQ, [99]) = 0\n`).message).toBe(
      'runtime error in ioctl call: Bad ioctl SIOCINQ value: expected: 99 actual: 100',
    );
  });

  it('reports the FreeBSD receive buffer as sb_hiwat, rounded to the MSS once established', () => {
    passes(
      `${CONNECT_FREEBSD}+0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [65700], [4]) = 0\n`.replace(
        '+0 connect',
        '+0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [65536], [4]) = 0\n+0 connect',
      ),
      { personality: 'freebsd' },
    );
  });

  it('reports the Linux receive buffer as sk_rcvbuf: tcp_rmem[1], or twice what was set', () => {
    const text = '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [131072], [4]) = 0\n+0 setsockopt(3, SOL_SOCKET, SO_RCVBUF, [10000], 4) = 0\n+0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [20000], [4]) = 0\n';
    passes(text);
    passes(`\`../common/defaults.sh\`\n${text.replace('[131072]', '[540000]')}`);
  });

  it('runs a T...END call in the background and checks when it returns', () => {
    const text = (end: string): string => `${LISTEN}
+0...${end} accept(3, ..., ...) = 4
+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <...>
+.1 < . 1:1(0) ack 1 win 257
+.1 write(4, ..., 100) = 100
`;
    passes(text('0.200'));
    expect(fails(text('0.300'))).toMatchObject({
      line: 7,
      message: 'timing error: expected system call return at 0.300000 sec but happened at 0.200000 sec; tolerance 0.037500 sec',
    });
  });

  it('blocks the script on a call without ... until a timer wakes it, and fails when nothing can', () => {
    // A blocking accept: the SYN would come from a later line, which cannot run meanwhile.
    const f = fails(`${LISTEN}+0 accept(3, ..., ...) = 4\n+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>\n`);
    expect(f.line).toBe(6);
    expect(f.message).toBe('runtime error in accept call: the call blocks and nothing but a later event could wake it (write it as a blocking call, T...END, or make the descriptor non-blocking)');
    // ETIMEDOUT is a timer: the script may block on a connect that times out.
    const r = passes('`sysctl -w net.ipv4.tcp_syn_retries=1`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 connect(3, ..., ...) = -1 ETIMEDOUT (Connection timed out)\n');
    expect(r.log.at(-1)).toMatch(/^3\.000000 connect\(3, \.\.\., \.\.\.\) = -1 ETIMEDOUT/);
  });

  it('gives up a connection attempt as Linux does: by count, or by time since the first SYN (tcp_model_timeout)', () => {
    // Linux >= 6.5, tcp_syn_retries=1: max_retransmits is 1 + tcp_syn_linear_timeouts (4), but
    // retransmits_timed_out(sk, 1, 0) ends the attempt 3 s after the first SYN: SYNs at 0, 1, 2 s.
    const text = `\`sysctl -w net.ipv4.tcp_syn_retries=1\`
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...3 connect(3, ..., ...) = -1 ETIMEDOUT (Connection timed out)
+0 > S 0:0(0) <...>
+1 > S 0:0(0) <...>
+1 > S 0:0(0) <...>
`;
    passes(text, { strict: true });
    // Linux 3.11 doubled the RTO: SYNs at 0 and 1 s only, ETIMEDOUT at 3 s; no third SYN.
    expect(fails(text, { personality: 'linux-3.11' })).toMatchObject({ line: 6, message: 'error handling packet: Timed out waiting for packet' });
  });

  it('polls, and reads with MSG_DONTWAIT', () => {
    passes(`${HANDSHAKE}+0 poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1
+0 recv(4, ..., 100, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)
+0...0.1 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 1000) = 1
+.1 < P. 1:101(100) ack 1 win 257
+0 > . 1:1(0) ack 101
+0 getsockname(4, ..., ...) = 0
`);
    expect(fails(`${HANDSHAKE}+0 poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLIN}], 1, 0) = 1\n`).message).toBe(
      'runtime error in poll call: poll fd 4: expected revents 0x1 but got 0x4',
    );
  });

  it('is unsupported, not passed, for calls and options synack does not model', () => {
    const r = run(`0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0\n`);
    expect(r.status).toBe('unsupported');
    if (r.status === 'unsupported') expect(r.unsupported.map((u) => `${u.loc.line}:${u.loc.column} ${u.what}`)).toEqual(['2:30 socket option SO_KEEPALIVE']);
    expect(run('0 epoll_create(1) = 4\n').status).toBe('unsupported');
  });
});

describe('time', () => {
  it('wants the first event at time 0', () => {
    expect(fails('+1 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n')).toMatchObject({ line: 1, message: 'first event should be at time 0' });
  });

  it('takes * as any time: SYN retransmissions without times', () => {
    passes(
      `
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <...>
* > S 0:0(0) <...>
* > S 0:0(0) <...>
`,
    );
  });
});

describe('sysctls, personalities, shell steps and code', () => {
  // FreeBSD ESTABLISHED, then a RST inside the window but not at RCV.NXT.
  const rst = (insecure: 0 | 1, rest: string): string => `--tolerance_usecs=50000
\`sysctl -w net.inet.tcp.insecure_rst=${insecure}\`
${CONNECT_FREEBSD.replace('--tolerance_usecs=50000\n', '')}+.1 < R 1000:1000(0) win 32767
${rest}`;

  it('maps net.inet.tcp.insecure_rst onto RFC 5961 on or off', () => {
    passes(rst(0, '+0 > . 1:1(0) ack 1 win 65535\n+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n'), { personality: 'freebsd' });
    passes(rst(1, '+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0\n'), { personality: 'freebsd' });
  });

  it('is unsupported for a sysctl it cannot map, or one of the other system', () => {
    const r = run('`sysctl -w net.inet.tcp.drop_synfin=1`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n', { personality: 'freebsd' });
    expect(r.status === 'unsupported' ? r.unsupported.map((u) => u.what) : r.status).toEqual(['sysctl net.inet.tcp.drop_synfin']);
    const l = run('`sysctl -w net.inet.tcp.rfc1323=0`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n', { personality: 'linux' });
    expect(l.status === 'unsupported' ? l.unsupported.map((u) => u.what) : l.status).toEqual(['sysctl net.inet.tcp.rfc1323 (a FreeBSD sysctl) under the linux personality']);
  });

  it('takes defaults.sh as packetdrill\'s Linux baseline: wscale 8', () => {
    passes(`\`../common/defaults.sh\`
${LISTEN}
+0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>
`);
  });

  it('maps net.ipv4.tcp_syncookies: always (2) answers with a cookie, whose SYN-ACK has only the MSS without timestamps', () => {
    const text = (v: number, opts: string): string => `\`sysctl -w net.ipv4.tcp_syncookies=${v}\`
${LISTEN}
+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <${opts}>
+0 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
`;
    passes(text(2, 'mss 1460'));
    passes(text(0, 'mss 1460,nop,nop,sackOK,nop,wscale 10'));
  });

  it('maps each sysctl onto the personality or the listen settings', () => {
    const knobs = (name: 'linux' | 'freebsd'): Knobs => ({ personality: { ...personalityByName(name) }, listen: { ...LINUX_LISTEN_DEFAULTS }, sendSpace: null });
    const l = knobs('linux');
    for (const [n, v] of [['tcp_syn_retries', '2'], ['tcp_synack_retries', '3'], ['tcp_timestamps', '0'], ['tcp_sack', '0'], ['tcp_window_scaling', '0'], ['tcp_syncookies', '0'], ['tcp_rfc1337', '1'], ['tcp_fin_timeout', '30'], ['tcp_abort_on_overflow', '1'], ['tcp_max_syn_backlog', '64']] as const) {
      expect(sysctlProblem(`net.ipv4.${n}`, v, 'linux')).toBeNull();
      applySysctl(`net.ipv4.${n}`, v, l);
    }
    expect(l.personality).toMatchObject({ synRetries: 2, synackRetries: 3, timestamps: false, sack: false, windowScaling: false, timeWaitRstKills: false, finWait2TimeoutUs: 30_000_000 });
    expect(l.listen).toMatchObject({ syncookies: 'off', abortOnOverflow: true, maxSynBacklog: 64 });
    const f = knobs('freebsd');
    for (const [n, v] of [['net.inet.tcp.rfc1323', '0'], ['net.inet.tcp.sack.enable', '0'], ['net.inet.tcp.insecure_rst', '1'], ['net.inet.tcp.insecure_syn', '1'], ['net.inet.tcp.rexmit_initial', '3000'], ['net.inet.tcp.rexmit_min', '50'], ['net.inet.tcp.rexmit_slop', '100'], ['net.inet.tcp.keepinit', '10000'], ['net.inet.tcp.recvspace', '32768'], ['net.inet.tcp.sendspace', '16384'], ['net.inet.tcp.mssdflt', '1000'], ['kern.ipc.maxsockbuf', '73728']] as const) {
      expect(sysctlProblem(n, v, 'freebsd')).toBeNull();
      applySysctl(n, v, f);
    }
    expect(f.personality).toMatchObject({
      timestamps: false, windowScaling: false, sack: false, rfc5961: { rst: false, syn: false, ack: false }, rtoInitialUs: 3_000_000, rtoMinUs: 50_000,
      rtoSlopUs: 100_000, connectTimeoutUs: 10_000_000, rcvSpace: 32768, defaultMssIpv4: 1000, rcvSpaceMax: 73728,
    });
    expect(f.sendSpace).toBe(16384);
    // Values the runner cannot honour are named.
    expect(sysctlProblem('net.inet.tcp.blackhole', '1', 'freebsd')).toBe('sysctl net.inet.tcp.blackhole=1');
    expect(sysctlProblem('net.inet.tcp.rexmit_drop_options', '1', 'freebsd')).toBe('sysctl net.inet.tcp.rexmit_drop_options=1');
    expect(sysctlProblem('net.ipv4.tcp_syn_retries', 'x', 'linux')).toBe('sysctl net.ipv4.tcp_syn_retries=x');
  });

  it('runs IPv6 (--ip_version=ipv6): MSS 1440 on a 1500-byte link', () => {
    passes(`--ip_version=ipv6
${LISTEN}
+0 < S 0:0(0) win 32792 <mss 1440,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1440,nop,wscale 10>
`);
  });

  it('offers wscale 6 as Linux 3.11', () => {
    passes(`${LISTEN}
+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 6>
`, { personality: 'linux-3.11' });
  });

  it('evaluates tcpi_state and MSS assertions on the socket under test', () => {
    passes(`${HANDSHAKE}+0 %{ assert tcpi_state == TCPI_ESTABLISHED }%\n+0 %{ assert tcpi_snd_mss == 1000, tcpi_snd_mss }%\n`);
    const f = fails(`${HANDSHAKE}+0 %{ assert tcpi_state == TCPI_CLOSE_WAIT }%\n+0 close(4) = 0\n`);
    expect(f).toMatchObject({ line: 11, message: 'error executing code: AssertionError: tcpi_state == TCPI_CLOSE_WAIT is false: tcpi_state was ESTABLISHED' });
  });

  it('counts sockets in a state (sockstat) and drops them (tcpdrop)', () => {
    const tw = `--tolerance_usecs=50000
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <...>
+.1 < S. 0:0(0) ack 1 win 32767 <mss 1460,sackOK,eol,eol>
+0 > . 1:1(0) ack 1 win 65535
+.1 shutdown(3, SHUT_WR) = 0
+0 > F. 1:1(0) ack 1 win 65535
+.1 < F. 1:1(0) ack 2 win 32767
+0 > . 2:2(0) ack 2 win 65535
`;
    passes(`${tw}+.1 \`sockstat -4 -P tcp -s | grep -c TIME_WAIT | grep 1\`\n+0 \`tcpdrop -s TIME_WAIT\`\n+0 \`sockstat -4 -P tcp -s | grep -c TIME_WAIT | grep 0\`\n`, {
      personality: 'freebsd',
    });
    const f = fails(`${tw}+.1 \`sockstat -4 -P tcp -s | grep -c TIME_WAIT | grep 0\`\n`, { personality: 'freebsd' });
    expect(f).toMatchObject({ line: 12, message: "error executing command 'sockstat -4 -P tcp -s | grep -c TIME_WAIT | grep 0': 1 TCP socket in TIME-WAIT, expected 0" });
  });

  it('runs the #ifdef blocks of the names defined: the OS name and --define', () => {
    const text = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
#ifdef FreeBSD
+0 close(3) = 0
#endif
#ifdef EXTRA
+0 close(3) = 0
#endif
`;
    passes(text, { personality: 'freebsd' });
    passes(text, { personality: 'linux' });
    // Both blocks: the second close has no descriptor left.
    expect(fails(text, { personality: 'freebsd', defines: ['EXTRA'] }).message).toBe('bad file descriptor 3 (no socket() or accept() gave it)');
  });
});

describe('self-tests', () => {
  it('judges a script with a // Failure: comment by its failure, the comment read as a regular expression', () => {
    const text = `// Failure: runtime error in socket call: Expected result -99 but got -1 with errno 93 \\(Protocol not supported\\)
+0 socket(..., SOCK_STREAM, IPPROTO_UDP) = -99
`;
    const script = parse(text);
    expect(judge(script, runScript(script))).toEqual({ ok: true, reason: 'failed as expected: runtime error in socket call: Expected result -99 but got -1 with errno 93 (Protocol not supported)' });
    const other = parse(text.replace('-99\n', '-1 EPERM\n'));
    expect(judge(other, runScript(other)).ok).toBe(false);
  });

  it('never throws, and formats each outcome', () => {
    const r = run(`${LISTEN}+0 > S. 0:0(0) ack 1 <...>\n`);
    expect(formatRunResult(r).split('\n').slice(0, 2)).toEqual([
      't.pkt:6:1: error handling packet: Timed out waiting for packet',
      'script packet: 0.000000 > S. 0:0(0) ack 1 <...>',
    ]);
  });
});

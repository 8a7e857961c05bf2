/**
 * Broken scripts give exact errors: file:line:column and what was expected. Columns are counted by hand
 * from the script text in each case (1-based).
 */
import { describe, expect, it } from 'vitest';
import { errorsOf } from './helpers.js';

const SOCKET = '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n';

const cases: [name: string, text: string, errors: string[]][] = [
  [
    'missing = before the result',
    '0 socket(..., SOCK_STREAM, IPPROTO_TCP) 3\n',
    ["broken.pkt:1:41: expected '=' and the expected result, found '3'"],
  ],
  [
    'missing = at the end of the line (reported where it belonged; the next line still parses)',
    '0 close(3)\n+0 close(4) = 0\n',
    ["broken.pkt:1:11: expected '=' and the expected result, found end of line"],
  ],
  [
    'bad flag letter',
    `${SOCKET}+0 < SX 0:0(0) win 1000\n`,
    ["broken.pkt:2:7: invalid TCP flag 'X' in 'SX' (flags are . F S R P E W A U, or one AccECN ACE digit 0-7)"],
  ],
  [
    'conflicting flags: an ACE digit with ECN letters',
    '0 > S.E1 0:0(0) ack 1\n',
    ["broken.pkt:1:5: conflicting TCP flags in 'S.E1': an AccECN ACE digit cannot be combined with E, W or A"],
  ],
  [
    'missing flags',
    '0 < 0:0(0) win 100\n',
    ["broken.pkt:1:5: expected TCP flags (such as S, S., ., P., F., R or -), found '0'"],
  ],
  [
    'unterminated option list (end of line)',
    '0 < S 0:0(0) win 1000 <mss 1460,nop\n+0 > S. 0:0(0) ack 1\n',
    ["broken.pkt:1:36: expected ',' or '>' in the TCP option list, found end of line"],
  ],
  [
    'unterminated option list (end of file)',
    '0 < S 0:0(0) win 1000 <mss 1460',
    ["broken.pkt:1:32: expected ',' or '>' in the TCP option list, found end of file"],
  ],
  [
    'unknown TCP option',
    '0 < S 0:0(0) win 100 <mss 1460,sackok>\n',
    [
      'broken.pkt:1:32: expected a TCP option (nop, eol, mss N, wscale N, sackOK, sack A:B, TS val N ecr N, md5, FO, FOEXP), ' +
        "found 'sackok'",
    ],
  ],
  [
    'option list not padded to 4 bytes',
    '0 < S 0:0(0) win 100 <mss 1460,wscale 7>\n',
    ['broken.pkt:1:22: TCP options take 7 bytes, not a multiple of 4 (3 excess; pad with nop or eol)'],
  ],
  [
    'inconsistent sequence range',
    '0 < . 1:1000(1000) ack 1 win 100\n',
    ['broken.pkt:1:7: inconsistent sequence range 1:1000(1000): the end must be start + length = 1001'],
  ],
  [
    'sequence range without its length',
    '0 < . 1:1001 ack 1 win 100\n',
    ["broken.pkt:1:14: expected '(' and the payload length, found 'ack'"],
  ],
  [
    'window out of range',
    '0 < S 0:0(0) win 70000\n',
    ['broken.pkt:1:18: win 70000 is out of range (0 to 65535)'],
  ],
  [
    'inbound packet without a window',
    '0 < S 0:0(0) <mss 1460>\n',
    ["broken.pkt:1:3: an inbound packet must give its window ('win N')"],
  ],
  [
    '<...> on an inbound packet',
    '0 < S 0:0(0) win 100 <...>\n',
    ["broken.pkt:1:22: '<...>' (any options) is only allowed on outbound packets"],
  ],
  [
    'misspelled keyword after the sequence range',
    '0 > S. 0:0(0) ack 1 wn 100\n',
    ["broken.pkt:1:21: expected 'win', 'urg', '<' (TCP options) or end of line, found 'wn'"],
  ],
  ['ack given twice', '0 > . 1:1(0) ack 1 ack 2\n', ["broken.pkt:1:20: 'ack' given twice"]],
  [
    'ack after win',
    '0 > S. 0:0(0) win 100 ack 1\n',
    ["broken.pkt:1:23: 'ack' must come before 'win'"],
  ],
  [
    '%{ without }%',
    `${SOCKET}+0 %{ assert tcpi_state == TCPI_LISTEN\n+0 close(3) = 0\n`,
    ["broken.pkt:2:4: unterminated code block: expected '}%' before end of file"],
  ],
  [
    'unterminated backquote',
    '0 `sysctl -w net.inet.tcp.sack.enable=1\n',
    ["broken.pkt:1:3: unterminated shell command: expected '`' before end of file"],
  ],
  [
    'unterminated block comment',
    '/* header\n0 close(3) = 0\n',
    ["broken.pkt:1:1: unterminated comment: expected '*/' before end of file"],
  ],
  [
    'unknown function in an argument',
    '0 bind(3, {sa_family=AF_INET, sin_port=htonz(8080)}, 16) = 0\n',
    ["broken.pkt:1:40: unknown function 'htonz' (known: htons, htonl, inet_addr, inet6_addr)"],
  ],
  ['unknown system call', '0 sokcet(..., SOCK_STREAM, IPPROTO_TCP) = 3\n', ["broken.pkt:1:3: unknown system call 'sokcet'"]],
  ['wrong argument count', '0 socket(..., SOCK_STREAM) = 3\n', ['broken.pkt:1:3: socket() takes 3 arguments, found 2']],
  [
    'bad errno name',
    `${SOCKET}+0 connect(3, ..., ...) = -1 ECONNREFUSD (Connection refused)\n`,
    ["broken.pkt:2:30: expected an errno name such as ECONNREFUSED, found 'ECONNREFUSD'"],
  ],
  [
    'unclosed note',
    '0 close(3) = -1 EBADF (Bad file',
    ["broken.pkt:1:32: expected ')' closing the note, found end of file"],
  ],
  [
    'time going backwards (absolute)',
    '0.200 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n0.100 close(3) = 0\n',
    ['broken.pkt:2:1: time goes backwards: 0.1 is before the previous event (at 0.2)'],
  ],
  [
    'time going backwards (after relative times)',
    `${SOCKET}+1 bind(3, ..., ...) = 0\n0.5 listen(3, 1) = 0\n`,
    ['broken.pkt:3:1: time goes backwards: 0.5 is before the previous event (at 1)'],
  ],
  ['negative relative time', '+-1 close(3) = 0\n', ['broken.pkt:1:2: negative time -1']],
  [
    'no time',
    'socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n',
    ["broken.pkt:1:1: expected an event time (such as 0, 0.100, +0.1, * or 0.1~0.2), found 'socket'"],
  ],
  ["'*' on a system call", '* close(3) = 0\n', ["broken.pkt:1:1: the time '*' (any time) is only allowed on outbound packets"]],
  ['time range on an inbound packet', '0.1~0.2 < . 1:1(0) ack 1 win 100\n', ['broken.pkt:1:1: a time range is only allowed on outbound packets']],
  ['time range backwards', '0.3~0.2 > . 1:1(0) ack 1\n', ['broken.pkt:1:1: time range is backwards: it ends (0.2) before it starts (0.3)']],
  [
    'relative range written without the second +',
    '0 > . 1:1(0) ack 1\n+0~0.04 > . 1:1(0) ack 1\n',
    ["broken.pkt:2:4: expected '+' after '~' (a relative range is written +A~+B), found '0.04'"],
  ],
  ['blocking call ending before it starts', '0.5...0.2 accept(3, ..., ...) = 4\n', ['broken.pkt:1:7: the blocking call returns (0.2) before it starts (0.5)']],
  [
    'two events on one line',
    '0 close(3) = 0 +0 close(4) = 0\n',
    ["broken.pkt:1:16: expected end of line after the system call, found '+'"],
  ],
  ['unknown option', '--tolerance_usec=1000\n0 close(3) = 0\n', ["broken.pkt:1:1: unknown option '--tolerance_usec'"]],
  [
    'option value not an integer',
    '--tolerance_usecs=abc\n0 close(3) = 0\n',
    ["broken.pkt:1:19: expected an integer for '--tolerance_usecs', found 'abc'"],
  ],
  [
    'option after the first event',
    '0 close(3) = 0\n--mss=1000\n',
    ["broken.pkt:2:1: expected an event (options must come before the first event), found option '--mss'"],
  ],
  [
    'cleanup command that is not last',
    '0 close(3) = 0\n`echo done`\n+0 close(4) = 0\n',
    ["broken.pkt:3:1: expected end of file after the cleanup command (an untimed `command` must come last), found '+'"],
  ],
  ['#endif without #ifdef', '0 close(3) = 0\n#endif\n', ['broken.pkt:2:1: #endif without #ifdef']],
  [
    'unterminated #ifdef',
    '#ifdef FreeBSD\n0 close(3) = 0\n',
    ["broken.pkt:1:1: unterminated '#ifdef FreeBSD': expected #endif before end of file"],
  ],
  [
    'nested #ifdef (and the extra #endif it leaves)',
    '#ifdef A\n#ifdef B\n0 close(3) = 0\n#endif\n#endif\n',
    ["broken.pkt:2:1: #ifdef inside '#ifdef A' (line 1): they do not nest", 'broken.pkt:5:1: #endif without #ifdef'],
  ],
  ['a script without events', '// nothing here\n', ['broken.pkt:2:1: expected an event, such as 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3, found end of file']],
  [
    'several broken lines are all reported',
    `${SOCKET}+0 bind(3, ..., ...) 0\n+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 99999\n+0 accept(3, ..., ...) = 4 EWHAT\n`,
    [
      "broken.pkt:2:22: expected '=' and the expected result, found '0'",
      'broken.pkt:4:19: win 99999 is out of range (0 to 65535)',
      "broken.pkt:5:28: expected an errno name such as ECONNREFUSED, found 'EWHAT'",
    ],
  ],
];

describe('broken scripts give exact errors', () => {
  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });
  for (const [name, text, expected] of cases) {
    it(name, () => {
      expect(errorsOf(text)).toEqual(expected);
    });
  }
});

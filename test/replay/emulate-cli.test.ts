/**
 * `synack replay FILE --host ADDR` (emulate mode) from the command line: the report, the `emulate`
 * object of --json (DESIGN.md output contract), -q, and the exit codes: 0 all matched, 1 a difference,
 * 2 bad input or usage.
 */
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { FIXTURES_DIR } from '../corpus.js';
import { synack } from '../cli/run.js';

const WEB_MAIL = path.join(FIXTURES_DIR, 'web-mail-v4.pcap');

describe('synack replay FILE --host ADDR', () => {
  test('the server of web-mail-v4: every segment matched, exit 0', () => {
    const r = synack(['replay', WEB_MAIL, '--host', '198.18.0.1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${WEB_MAIL}: synack (linux) in the place of 198.18.0.1, with its own ISNs; the peers' segments translated to them`);
    expect(lines[1]).toBe('application (inferred): listen 198.18.0.1:80, 198.18.0.1:25; 0 connect, 9 send, 9 close, 0 shutdown, 0 abort');
    expect(lines[3]).toMatch(/^connection \(host - peer\) +first frame +matched$/);
    expect(lines[4]).toMatch(/^198\.18\.0\.1:80 - 198\.18\.0\.11:40001 +3 +4\/4$/);
    expect(lines.filter((l) => /^198\.18\.0\.1:(80|25) - 198\.18\.0\.1\d:400\d\d +\d+ +(\d)\/\2$/.test(l))).toHaveLength(9);
    expect(lines[lines.length - 1]).toBe('matched 41/41 expected segments');
  });

  test('--json: the observe-mode object with the emulate object in it', () => {
    const r = synack(['replay', WEB_MAIL, '--host', '198.18.0.1', '--json']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout) as Record<string, unknown> & { emulate: Record<string, unknown>; connections: unknown[] };
    expect(o['file']).toBe(WEB_MAIL);
    expect(o['format']).toBe('pcap');
    expect(o.connections).toHaveLength(9);
    expect(o.emulate).toMatchObject({ host: '198.18.0.1', personality: 'linux', expected: 41, matched: 41, diffs: [] });
    expect(o.emulate['connections']).toHaveLength(9);
  });

  test('a client of web-mail-v6, its address written another way', () => {
    const r = synack(['replay', path.join(FIXTURES_DIR, 'web-mail-v6.pcap'), '--host', '2001:DB8:0::12', '-q']);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('matched 17/17 expected segments, 0 differences\n');
    expect(r.code).toBe(0);
  });

  test('--personality freebsd on a Linux capture: the differences, exit 1', () => {
    const r = synack(['replay', WEB_MAIL, '--host', '198.18.0.1', '--personality', 'freebsd']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      [
        'frame 4  198.18.0.1:80 > 198.18.0.11:40001  differs in win, options',
        '  expected  0.000055 s  > S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 10>',
        '  actual    0.000040 s  > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 6,sackOK,TS val 0 ecr 0>',
      ].join('\n'),
    );
    expect(r.stdout).toMatch(/\nmatched \d+\/41 expected segments/);
  });

  test('bad input and usage: exit 2 with a message', () => {
    const absent = synack(['replay', WEB_MAIL, '--host', '198.18.0.9']);
    expect(absent.code).toBe(2);
    expect(absent.stdout).toBe('');
    expect(absent.stderr).toBe(`synack: --host 198.18.0.9: no TCP segment to or from it in ${WEB_MAIL} (addresses: 198.18.0.11, 198.18.0.1, 198.18.0.12, 198.18.0.13)\n`);
    const notIp = synack(['replay', WEB_MAIL, '--host', 'server']);
    expect([notIp.code, notIp.stderr]).toEqual([2, 'synack: --host server: not an IPv4 or IPv6 address\n']);
    const missing = synack(['replay', 'no-such.pcap', '--host', '198.18.0.1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^synack: no-such\.pcap: offset 0, frame 1: cannot open: ENOENT/);
    for (const [args, message] of [
      [['--host', '198.18.0.1', '--frames'], '--frames does not go with --host (emulate mode)'],
      [['--host', '198.18.0.1', '--personality', 'bsd'], '--personality must be one of linux, linux-3.11, freebsd, got "bsd"'],
      [['--personality', 'freebsd'], '--personality goes with --host ADDR (emulate mode)'],
    ] as const) {
      const u = synack(['replay', WEB_MAIL, ...args]);
      expect(u.code, args.join(' ')).toBe(2);
      expect(u.stderr.split('\n')[0]).toBe(`synack replay: ${message}`);
    }
  });
});

/**
 * Every script of the shared conformance set (../shared/conformance/packetdrill, all subfolders) parses,
 * to a runnable tree or to `unsupported` with reasons, and survives formatScript → parseScript unchanged.
 */
import { describe, expect, it } from 'vitest';
import {
  eventsFor,
  expectedFailures,
  formatDiagnostic,
  formatScript,
  parseScript,
  type Event,
  type Loc,
  type ParseResult,
  type Script,
  type ShellStep,
} from '../../src/script/index.js';
import { CONFORMANCE_SCRIPTS, manifestEntries, readConformanceScript } from '../conformance.js';
import { stripLocs } from './helpers.js';

const parsed: { file: string; text: string; result: ParseResult }[] = CONFORMANCE_SCRIPTS.map((file) => {
  const text = readConformanceScript(file);
  return { file, text, result: parseScript(text, file) };
});

function scriptOf(file: string): Script {
  const p = parsed.find((x) => x.file === file);
  if (p === undefined || !p.result.ok) return expect.fail(`${file} missing or not parsed`);
  return p.result.script;
}

function allEvents(s: Script): Event[] {
  return s.items.flatMap((i) => (i.kind === 'ifdef' ? [...i.items] : [i]));
}

function allSteps(s: Script): ShellStep[] {
  const out: ShellStep[] = [...(s.init?.steps ?? []), ...(s.cleanup?.steps ?? [])];
  for (const e of allEvents(s)) if (e.kind === 'shell') out.push(...e.command.steps);
  return out;
}

describe('the shared packetdrill conformance set', () => {
  it('holds the scripts MANIFEST.md lists, no more, no fewer', () => {
    const listed = manifestEntries().map((e) => e.file).sort();
    expect(listed.length).toBe(75);
    expect(CONFORMANCE_SCRIPTS).toEqual(listed);
  });

  it('parses every script, to a runnable tree or to unsupported with a reason', () => {
    const errors = parsed.flatMap((p) => (p.result.ok ? [] : p.result.errors.map(formatDiagnostic)));
    expect(errors).toEqual([]);

    // The table for the report: reason → scripts.
    const byReason = new Map<string, string[]>();
    let runnable = 0;
    for (const p of parsed) {
      if (!p.result.ok) continue;
      if (p.result.unsupported.length === 0) runnable++;
      for (const u of p.result.unsupported) {
        const list = byReason.get(u.what) ?? [];
        list.push(formatDiagnostic(u));
        byReason.set(u.what, list);
      }
    }
    const rows = [...byReason].map(([what, where]) => `| ${what} | ${where.length} | ${where[0]} |`);
    console.log(
      [
        `shared scripts: ${parsed.length} parsed, ${runnable} runnable, ${parsed.length - runnable} unsupported`,
        '| unsupported reason | findings | first at |',
        '|---|---|---|',
        ...(rows.length > 0 ? rows : ['| (none) | 0 | - |']),
      ].join('\n'),
    );
    // Every construct the shared scripts use is in the supported dialect: nothing a user would call a gap.
    expect([...byReason.keys()]).toEqual([]);
    expect(runnable).toBe(75);
  });

  it('sees the constructs grep counts in the raw files', () => {
    // Numbers from grep over the 75 files (comment lines excluded), independent of the parser.
    const events = parsed.flatMap((p) => (p.result.ok ? allEvents(p.result.script) : []));
    const steps = parsed.flatMap((p) => (p.result.ok ? allSteps(p.result.script) : []));
    const packets = events.filter((e) => e.kind === 'packet');
    expect(packets.filter((e) => e.direction === 'outbound').length).toBe(226);
    expect(packets.filter((e) => e.direction === 'inbound').length).toBe(174);
    expect(events.filter((e) => e.time.kind === 'any').length).toBe(8);
    expect(events.filter((e) => e.time.kind === 'relative-range').length).toBe(1);
    expect(events.filter((e) => e.kind === 'syscall' && e.blockingEnd !== null).length).toBe(10);
    expect(events.filter((e) => e.kind === 'syscall' && e.errno !== null).length).toBe(38);
    const calls = new Map<string, number>();
    for (const e of events) if (e.kind === 'syscall') calls.set(e.name, (calls.get(e.name) ?? 0) + 1);
    expect(Object.fromEntries(calls)).toEqual({
      socket: 76, bind: 31, listen: 28, accept: 19, connect: 41, close: 61, shutdown: 14, getsockopt: 109,
      setsockopt: 34, fcntl: 75, read: 8, write: 6, send: 1, recv: 1, ioctl: 2,
    });
    expect(events.filter((e) => e.kind === 'code').length).toBe(13);
    expect(steps.filter((s) => s.kind === 'sysctl-set').length).toBe(463 + 1); // + set_sysctls.py's one
    expect(steps.filter((s) => s.kind === 'socket-count').length).toBe(12);
    expect(steps.filter((s) => s.kind === 'linux-defaults').length).toBe(17);
    expect(steps.filter((s) => s.kind === 'unknown')).toEqual([]);
    expect(parsed.filter((p) => p.result.ok && p.result.script.items.some((i) => i.kind === 'ifdef')).length).toBe(1);
  });

  it('round-trips every script through formatScript', () => {
    for (const p of parsed) {
      if (!p.result.ok) continue;
      const printed = formatScript(p.result.script);
      const again = parseScript(printed, p.file);
      if (!again.ok) expect.fail(`${p.file}: printed form does not parse:\n${again.errors.map(formatDiagnostic).join('\n')}\n${printed}`);
      expect(stripLocs(again.script), p.file).toEqual(stripLocs(p.result.script));
      // And printing is a fixed point.
      expect(formatScript(again.script), p.file).toBe(printed);
    }
  });

  it('parses blocking-connect.pkt to this tree, locations included', () => {
    const F = 'google-packetdrill/gtests/net/tcp/blocking/blocking-connect.pkt';
    const L = (line: number, column: number): Loc => ({ file: F, line, column });
    expect(scriptOf(F)).toEqual({
      file: F,
      options: [],
      init: { text: '../common/defaults.sh', steps: [{ kind: 'linux-defaults', path: '../common/defaults.sh', loc: L(3, 2) }], loc: L(3, 1) },
      items: [
        {
          kind: 'syscall',
          time: { kind: 'absolute', usecs: 0, loc: L(6, 5) },
          loc: L(6, 5),
          name: 'socket',
          blockingEnd: null,
          args: [
            { kind: 'ellipsis', loc: L(6, 14) },
            { kind: 'word', name: 'SOCK_STREAM', loc: L(6, 19) },
            { kind: 'word', name: 'IPPROTO_TCP', loc: L(6, 32) },
          ],
          result: { kind: 'int', value: 3, hex: false, loc: L(6, 47) },
          errno: null,
          note: null,
        },
        {
          kind: 'syscall',
          time: { kind: 'relative', usecs: 100_000, loc: L(8, 3) },
          loc: L(8, 3),
          name: 'connect',
          blockingEnd: { usecs: 200_000, loc: L(8, 9) },
          args: [
            { kind: 'int', value: 3, hex: false, loc: L(8, 23) },
            { kind: 'ellipsis', loc: L(8, 26) },
            { kind: 'ellipsis', loc: L(8, 31) },
          ],
          result: { kind: 'int', value: 0, hex: false, loc: L(8, 38) },
          errno: null,
          note: null,
        },
        {
          kind: 'packet',
          time: { kind: 'relative', usecs: 0, loc: L(10, 4) },
          loc: L(10, 4),
          direction: 'outbound',
          ipInfo: null,
          ports: null,
          flags: { text: 'S', bits: 0x02, ace: null, loc: L(10, 9) },
          seq: { kind: 'range', start: 0, end: 0, length: 0, absolute: false, loc: L(10, 11) },
          ack: null,
          win: null,
          urg: null,
          options: {
            kind: 'list',
            loc: L(10, 18),
            options: [
              { kind: 'mss', value: 1460, loc: L(10, 19) },
              { kind: 'sack-permitted', loc: L(10, 28) },
              { kind: 'timestamps', val: 100, ecr: 0, ecrAbsolute: false, loc: L(10, 35) },
              { kind: 'nop', loc: L(10, 52) },
              { kind: 'wscale', shift: 8, loc: L(10, 56) },
            ],
          },
        },
        {
          kind: 'packet',
          time: { kind: 'relative', usecs: 100_000, loc: L(11, 3) },
          loc: L(11, 3),
          direction: 'inbound',
          ipInfo: null,
          ports: null,
          flags: { text: 'S.', bits: 0x12, ace: null, loc: L(11, 9) },
          seq: { kind: 'range', start: 0, end: 0, length: 0, absolute: false, loc: L(11, 12) },
          ack: { value: 1, loc: L(11, 19) },
          win: { value: 5792, loc: L(11, 25) },
          urg: null,
          options: {
            kind: 'list',
            loc: L(11, 34),
            options: [
              { kind: 'mss', value: 1460, loc: L(11, 35) },
              { kind: 'nop', loc: L(11, 44) },
              { kind: 'wscale', shift: 2, loc: L(11, 48) },
              { kind: 'nop', loc: L(11, 57) },
              { kind: 'nop', loc: L(11, 61) },
              { kind: 'sack-permitted', loc: L(11, 65) },
            ],
          },
        },
        {
          kind: 'packet',
          time: { kind: 'relative', usecs: 0, loc: L(12, 4) },
          loc: L(12, 4),
          direction: 'outbound',
          ipInfo: null,
          ports: null,
          flags: { text: '.', bits: 0x10, ace: null, loc: L(12, 9) },
          seq: { kind: 'range', start: 1, end: 1, length: 0, absolute: false, loc: L(12, 11) },
          ack: { value: 1, loc: L(12, 18) },
          win: null,
          urg: null,
          options: { kind: 'none' },
        },
      ],
      cleanup: null,
      comments: [
        { kind: 'line', text: ' Test for blocking connect.', loc: L(1, 1) },
        { kind: 'line', text: ' Establish a connection.', loc: L(5, 1) },
      ],
    });
  });

  it('reads packet-timeout.pkt: a two-line init command, the cleanup command, the expected failure', () => {
    const F = 'google-packetdrill/gtests/net/packetdrill/tests/packet-timeout.pkt';
    const s = scriptOf(F);
    expect(stripLocs(s.init?.steps)).toEqual([
      { kind: 'linux-defaults', path: '../../common/defaults.sh' },
      { kind: 'sysctl-set', name: 'net.ipv4.tcp_syn_retries', value: '1' },
    ]);
    // The sysctl sits on the second line of the backquoted command.
    expect(s.init?.steps[1]?.loc).toEqual({ file: F, line: 5, column: 35 });
    expect(stripLocs(s.cleanup)).toEqual({
      text: '/tmp/sysctl_restore_${PPID}.sh',
      steps: [{ kind: 'sysctl-restore', path: '/tmp/sysctl_restore_${PPID}.sh' }],
    });
    expect(expectedFailures(s)).toEqual([
      { loc: { file: F, line: 12, column: 4 }, message: 'error handling packet: Timed out waiting for packet' },
    ]);
  });

  it('finds the expected failures of the runner self-tests', () => {
    const err = scriptOf('google-packetdrill/gtests/net/packetdrill/tests/linux/packetdrill/socket_err.pkt');
    expect(expectedFailures(err).map((f) => f.message)).toEqual([
      'runtime error in socket call: Expected non-negative result but got -1 with errno 93 \\(Protocol not supported\\)',
    ]);
    const wrong = scriptOf('google-packetdrill/gtests/net/packetdrill/tests/linux/packetdrill/socket_wrong_err.pkt');
    expect(expectedFailures(wrong).map((f) => f.message)).toEqual([
      'runtime error in socket call: Expected result -99 but got -1 with errno 93 \\(Protocol not supported\\)',
    ]);
  });

  it('keeps both #ifdef branches of the TIME-WAIT SYN test, and picks one by define', () => {
    const s = scriptOf(
      'freebsd-tcp-testsuite/state-event-engine/rcv-syn-time-wait/rcv-syn-time-wait-using-shutdown-left-edge-secure-ipv4.pkt',
    );
    const blocks = s.items.filter((i) => i.kind === 'ifdef');
    expect(blocks.map((b) => [b.name, b.items.length, b.loc.line, b.endLoc.line])).toEqual([
      ['STANDARD', 2, 65, 69],
      ['FreeBSD', 4, 70, 76],
    ]);
    const all = allEvents(s).length;
    expect(eventsFor(s, new Set(['FreeBSD'])).length).toBe(all - 2);
    expect(eventsFor(s, new Set(['STANDARD'])).length).toBe(all - 4);
    const last = eventsFor(s, new Set(['FreeBSD'])).filter((e) => e.kind === 'shell');
    expect(stripLocs(last.slice(-2).map((e) => (e.kind === 'shell' ? e.command.steps : [])))).toEqual([
      [{ kind: 'socket-count', family: 4, port: null, state: 'TIME-WAIT', count: 1 }],
      [{ kind: 'drop-state', state: 'TIME-WAIT' }],
    ]);
  });

  it('reads the MSS assertions of mss-setsockopt-tcp_maxseg-server.pkt', () => {
    const s = scriptOf('google-packetdrill/gtests/net/tcp/mss/mss-setsockopt-tcp_maxseg-server.pkt');
    const code = allEvents(s).filter((e) => e.kind === 'code');
    expect(stripLocs(code.map((e) => (e.kind === 'code' ? e.body : null)))).toEqual([
      {
        kind: 'assertions',
        assertions: [
          { kind: 'tcpi-value', field: 'tcpi_advmss', op: '==', value: 1100, message: 'tcpi_advmss' },
          { kind: 'tcpi-value', field: 'tcpi_snd_mss', op: '==', value: 1100, message: 'tcpi_snd_mss' },
        ],
      },
    ]);
  });
});

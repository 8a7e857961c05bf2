/**
 * `synack script` (the built CLI: `npm test` builds first) and tools/conformance.mjs: exit codes 0 / 1 / 2,
 * packetdrill's failure report, the personality from MANIFEST.md, and the conformance table.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../corpus.js';
import { conformancePath } from '../conformance.js';
import { synack } from '../cli/run.js';

const dir = mkdtempSync(path.join(tmpdir(), 'synack-script-'));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

const GOOD = file(
  'good.pkt',
  `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 10>
`,
);
const BAD = file(
  'bad.pkt',
  `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+.1 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>
`,
);
const BROKEN = file('broken.pkt', '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) ack\n');

describe('synack script', () => {
  it('exits 0 when every script passes', () => {
    const r = synack(['script', GOOD]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${GOOD}: pass (linux; 1 outbound, 1 inbound packets, 3 calls)\n`);
  });

  it('exits 1 on a failure and reports it as packetdrill does', () => {
    const r = synack(['script', GOOD, BAD]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toBe(`${BAD}:5:1: error handling packet: bad value outbound TCP option 3`);
    expect(lines[2]).toBe('script packet: 0.100000 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>');
    expect(lines[3]).toBe('actual packet: 0.100000 S. 0:0(0) ack 1 win 64240 <mss 1460,nop,wscale 10>');
    expect(lines[4]).toMatch(/^trace \(linux, last \d+ of \d+ lines\):$/);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('2 scripts: 1 passed, 1 failed, 0 unsupported, 0 unreadable');
  });

  it('exits 2 on a script that does not parse and on a wrong command line', () => {
    const r = synack(['script', BROKEN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^.*broken\.pkt:2:\d+: /);
    expect(synack(['script']).code).toBe(2);
    const p = synack(['script', GOOD, '--personality', 'openbsd']);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/--personality must be one of linux, linux-3\.11, freebsd, got 'openbsd'/);
  });

  it('takes the personality from MANIFEST.md, or from --personality', () => {
    const fb = conformancePath('freebsd-tcp-testsuite/snippets/established-ipv4.pkt');
    const r = synack(['script', fb]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: pass \(freebsd;/);
    const l = synack(['script', fb, '--personality', 'linux']);
    expect(l.code).toBe(1);
    expect(l.stdout).toMatch(/: unsupported \(linux\), skipped:\n.*sysctl net\.inet\.tcp\.rfc1323 \(a FreeBSD sysctl\) under the linux personality/);
  });
});

describe('tools/conformance.mjs', () => {
  it('prints one row per script and the pass percentage', () => {
    const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'tools', 'conformance.mjs')], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^script\s+personality\s+result\s+reason$/);
    expect(lines.filter((l) => /\s(linux|linux-3\.11|freebsd)\s+(pass|fail|unsupported)\s/.test(l)).length).toBe(75);
    expect(lines.at(-1)).toMatch(/^\d+\/75 scripts pass \(\d+\.\d %\): \d+ pass, \d+ fail, 0 unsupported$/);
  });
});

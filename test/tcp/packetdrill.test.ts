/**
 * Every curated packetdrill script (/work/shared/conformance/packetdrill, MANIFEST.md) run against a bare
 * TCB with the small runner in pdrill.ts: each outbound segment a script expects must match (flags,
 * relative seq/ack, window when written, option kinds and values, timing). Linux scripts that load
 * defaults.sh run with that configuration, the 2013 ones with Linux 3.11's window scale, the FreeBSD
 * ones with the freebsd personality and the sysctls they set.
 */
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { freebsd, type Personality } from '../../src/tcp/personality.js';
import { linux311, linuxPacketdrill, runScript } from './pdrill.js';

const ROOT = '/work/shared/conformance/packetdrill';

function scripts(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...scripts(p));
    else if (e.name.endsWith('.pkt')) out.push(p);
  }
  return out.sort();
}

function personalityFor(path: string): Personality {
  if (path.includes('/freebsd-tcp-testsuite/')) return freebsd;
  if (path.includes('/google-packetdrill-2019/')) return linux311;
  return linuxPacketdrill;
}

/** Runner self-tests that must fail upstream too (their `// Failure:` comment). */
const EXPECTED_FAILURES = ['packet-timeout.pkt'];
/** Runner self-tests about syscall return values only. */
const NO_PACKETS = ['socket_err.pkt', 'socket_wrong_err.pkt', 'closed-initially-ipv4.pkt', 'listen-ipv4.pkt'];

describe.skipIf(!existsSync(ROOT))('packetdrill scripts against one TCB', () => {
  const all = existsSync(ROOT) ? scripts(ROOT) : [];
  test('the curated set is all there', () => {
    expect(all.length).toBe(75);
  });
  for (const f of all) {
    const name = f.slice(ROOT.length + 1);
    const base = f.slice(f.lastIndexOf('/') + 1);
    const p = personalityFor(f);
    if (EXPECTED_FAILURES.includes(base)) {
      // tcp_syn_retries=1: upstream expects no third SYN at +2 s; on 6.x the linear timeouts add
      // retries, so the third SYN comes at +1 s instead — either way the script fails.
      test(`${p.name}: ${name} fails as its Failure comment says`, () => {
        expect(() => runScript(f, p)).toThrow(/sent at 2000000/);
      });
      continue;
    }
    test(`${p.name}: ${name}`, () => {
      const r = runScript(f, p);
      if (!NO_PACKETS.includes(base)) expect(r.checkedOutbound).toBeGreaterThan(0);
    });
  }
});

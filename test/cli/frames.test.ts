/**
 * `synack frames`: runs on every capture without an exception, prints one line (or one JSON object)
 * per frame, and turns damaged files and wrong arguments into a clear message and exit code 2 with
 * every frame before the damage printed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ALL_CAPTURES, corpusPath, truthOf } from '../corpus.js';
import { synack } from './run.js';

describe('synack frames on every capture', () => {
  for (const { name, path: file } of ALL_CAPTURES) {
    test(name, () => {
      const r = synack(['frames', file, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      const objects = lines.map((l) => JSON.parse(l) as { frame: number });
      expect(objects.map((o) => o.frame)).toEqual(objects.map((_, i) => i + 1));
      if (!name.startsWith('fixtures/')) expect(objects.length).toBe(truthOf(name).packets);
      const text = synack(['frames', file]);
      expect(text.code).toBe(0);
      expect(text.stdout.trimEnd().split('\n').length).toBe(objects.length);
    });
  }
});

describe('synack frames output', () => {
  test('a SYN reads like tcpdump', () => {
    const r = synack(['frames', corpusPath('zeek-tcp-options.pcap'), '-c', '1']);
    expect(r.stdout).toBe(
      '1 0.000000 192.168.1.102.36861 > 193.1.193.64.80: Flags [S], seq 3750886907, win 5840, ' +
        'options [mss 1460,sackOK,TS val 4294923497 ecr 0,nop,wscale 6], length 0\n',
    );
  });

  test('--json carries the fields the issue names', () => {
    const r = synack(['frames', corpusPath('zeek-vlan-qinqinq.pcap'), '--json', '-c', '1']);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of ['frame', 'time', 'interface', 'linkType', 'vlan', 'src', 'dst', 'tcp']) expect(o).toHaveProperty(k);
    expect(o['vlan']).toEqual([30, 20, 10]);
    const t = o['tcp'] as Record<string, unknown>;
    for (const k of ['srcPort', 'dstPort', 'flags', 'seq', 'ack', 'window', 'options', 'payloadLength', 'checksum']) expect(t).toHaveProperty(k);
  });

  test('fragments are reassembled on the last one, as Wireshark shows them', () => {
    const r = synack(['frames', corpusPath('zeek-ipv4-fragmented-syn.pcap'), '--json']);
    const [first, second] = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first?.['tcp']).toBeUndefined();
    expect(first?.['fragment']).toEqual({ id: 1, offset: 0, more: true });
    expect(second?.['reassembledFrom']).toEqual([1, 2]);
    expect((second?.['tcp'] as Record<string, unknown>)['flags']).toBe('S');
  });

  test('bad checksums from offload are reported, not fatal', () => {
    const r = synack(['frames', corpusPath('zeek-chksums-ip4-tcp-bad.pcap'), '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { tcp: { checksum: string } }).tcp.checksum).toBe('bad');
  });
});

describe('bad input', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'synack-cli-'));
  const write = (name: string, bytes: Uint8Array): string => {
    const p = path.join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const good = new Uint8Array(readFileSync(corpusPath('zeek-tcp-options.pcap')));

  test('a file cut mid-record: the frames before it are printed, then the offset and frame, exit 2', () => {
    const cut = write('cut.pcap', good.subarray(0, good.length - 20));
    const r = synack(['frames', cut]);
    expect(r.code).toBe(2);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(r.stderr).toMatch(/cut\.pcap: offset \d+, frame 4: /);
    expect(r.stderr).toMatch(/3 frames, 3 TCP/);
  });

  test('a record claiming 4 GB', () => {
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(24 + 8, 0xffffffff, true);
    const r = synack(['frames', write('huge.pcap', huge)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/offset 24, frame 1: .*4294967295/);
  });

  for (const [name, bytes] of [
    ['empty.pcap', new Uint8Array(0)],
    ['garbage.pcap', new TextEncoder().encode('this is not a capture file at all\n')],
    ['short-header.pcap', good.subarray(0, 10)],
  ] as const) {
    test(name, () => {
      const r = synack(['frames', write(name, bytes)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`${name.replace('.', '\\.')}: offset 0`));
      expect(r.stdout).toBe('');
    });
  }

  test('a missing file', () => {
    const r = synack(['frames', path.join(dir, 'nope.pcap')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nope\.pcap/);
  });

  test('usage errors name the problem and exit 2', () => {
    expect(synack(['frames']).stderr).toMatch(/FILE missing/);
    expect(synack(['frames']).code).toBe(2);
    expect(synack(['frames', 'a', '--bogus']).stderr).toMatch(/unknown option --bogus/);
    expect(synack(['frames', 'a', '-c', 'x']).stderr).toMatch(/--count needs a whole number/);
    expect(synack(['nosuch']).code).toBe(2);
  });
});

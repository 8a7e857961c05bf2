/**
 * `synack replay`: the connection table and socket tables, --frames, --json (DESIGN.md output
 * contract), --ndjson, --at, --listen, and exit code 2 with the reader's offset/frame message for a
 * damaged file or a bad argument.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { corpusPath, FIXTURES_DIR } from '../corpus.js';
import { synack } from '../cli/run.js';

const WEB_MAIL = path.join(FIXTURES_DIR, 'web-mail-v4.pcap');

describe('synack replay FILE (table)', () => {
  test('the connection table and each host socket table', () => {
    const r = synack(['replay', WEB_MAIL]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`${WEB_MAIL}: pcap, link type 1 ETHERNET; 96 frames, 90 TCP; 9 connections`);
    expect(lines[2]).toMatch(/^id\s+client\s+server\s+state\s+history\s+listener fd\s+accepted fd\s+frames\s+duration$/);
    expect(lines[3]).toMatch(/^ 1 {2}198\.18\.0\.11:40001 {2}198\.18\.0\.1:80 {2}SF {5}ShADadFf {12}3 {12}5 {6}10 {5}0\.\d{3}$/);
    expect(lines.filter((l) => /^ ?\d+ {2}198\.18\.0\.1\d:400\d\d {2}198\.18\.0\.1:(80|25) {1,2}SF /.test(l))).toHaveLength(9);
    expect(r.stdout).toContain('sockets at the end of the capture:');
    expect(r.stdout).toContain('host 198.18.0.1\n');
    expect(r.stdout).toMatch(/\n {3}3 {2}LISTEN {5}\*:80 {11}\*:\* {16}syn 0, accept 0\n/);
    expect(r.stdout).toMatch(/\n {3}- {2}TIME-WAIT {2}198\.18\.0\.1:80 {2}198\.18\.0\.12:40002 +conn 2\n/);
  });

  test('--at shows the listener and the accepted sockets sharing its port side by side', () => {
    const r = synack(['replay', WEB_MAIL, '--at', '52']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sockets after frame 52:');
    const from = r.stdout.indexOf('host 198.18.0.1\n');
    const server = r.stdout.slice(from, r.stdout.indexOf('\n\n', from));
    const port80 = server.split('\n').filter((l) => /(\*|198\.18\.0\.1):80 /.test(l) && !l.includes('TIME-WAIT'));
    expect(port80.map((l) => l.trim().split(/\s+/).slice(0, 4))).toEqual([
      ['3', 'LISTEN', '*:80', '*:*'],
      ['7', 'ESTABLISHED', '198.18.0.1:80', '198.18.0.13:40003'],
      ['9', 'ESTABLISHED', '198.18.0.1:80', '198.18.0.11:40007'],
      ['10', 'ESTABLISHED', '198.18.0.1:80', '198.18.0.12:40008'],
      ['11', 'ESTABLISHED', '198.18.0.1:80', '198.18.0.13:40009'],
    ]);
  });

  test('notes: VLANs, reply VLANs, midstream connections', () => {
    expect(synack(['replay', corpusPath('zeek-vlan-collisions.pcap')]).stdout).toMatch(/\n 3 .* SF .*vlan 10\.20\n/);
    expect(synack(['replay', corpusPath('sv-syn-retransmit-with-ts.pcap')]).stdout).toContain('vlan 3136; reply vlan none');
    expect(synack(['replay', corpusPath('zeek-tcp-missing-syn.pcap')]).stdout).toMatch(/ SF .*midstream\n/);
  });
});

describe('synack replay --frames', () => {
  test('every TCP frame with step, socket, fd, listener fd, connection, action and state', () => {
    const r = synack(['replay', WEB_MAIL, '--frames']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^ frame {2}flags receiving socket \(local <- remote\) +step +fd lfd conn {2}action +state \(sender\)$/);
    const frames = lines.slice(1, 91);
    // Frames 1, 2, 7, 8, 12, 13 are ARP (MANIFEST); every other one is TCP.
    const tcpFrames = Array.from({ length: 94 }, (_, i) => i + 3).filter((f) => ![7, 8, 12, 13].includes(f));
    expect(frames.map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual(tcpFrames);
    expect(frames[0]?.trim().split(/\s+/)).toEqual(['3', 'S', '198.18.0.1:80', '<-', '198.18.0.11:40001', 'listener-any', '-', '3', '1', 'cloned', 'SYN-RECEIVED', '(SYN-SENT)']);
    expect(frames[2]?.trim().split(/\s+/)).toEqual(['5', '.', '198.18.0.1:80', '<-', '198.18.0.11:40001', 'syn-received', '5', '3', '1', 'accepted', 'ESTABLISHED', '(ESTABLISHED)']);
    // Then the tables.
    expect(lines[91]).toBe('');
    expect(lines[92]).toContain('9 connections');
  });

  test('anomalies, midstream and bad checksums are marked', () => {
    const inj = synack(['replay', corpusPath('zeek-tcp-rst-inject-rae.pcap'), '--frames']).stdout;
    expect(inj).toMatch(/\n +3 {2}S\. .* delivered +ESTABLISHED \(SYN-RECEIVED\) ANOMALY sent-after-reset\n/);
    const mid = synack(['replay', corpusPath('zeek-tcp-missing-syn.pcap'), '--frames']).stdout;
    expect(mid.split('\n')[1]).toMatch(/ midstream$/);
    const ck = synack(['replay', corpusPath('zeek-chksums-ip4-tcp-bad.pcap'), '--frames']).stdout;
    expect(ck.split('\n')[1]).toMatch(/ none .* reset +CLOSED \(SYN-SENT\) bad-checksum$/);
  });
});

describe('synack replay --json / --ndjson', () => {
  test('--json: one object with the output contract fields', () => {
    const r = synack(['replay', WEB_MAIL, '--json', '--frames']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(o).toMatchObject({ file: WEB_MAIL, format: 'pcap', linkTypes: [1], frames: { total: 96, tcp: 90, malformed: 0, badChecksum: 0 } });
    const conns = o['connections'] as Record<string, unknown>[];
    expect(conns).toHaveLength(9);
    expect(conns[0]).toMatchObject({ id: 1, client: '198.18.0.11:40001', server: '198.18.0.1:80', firstFrame: 3, lastFrame: 33, state: 'SF', history: 'ShADadFf', serverFd: 5, listenerFd: 3 });
    const demux = o['demux'] as Record<string, unknown>[];
    expect(demux).toHaveLength(90);
    expect(demux[0]).toMatchObject({ frame: 3, host: '198.18.0.1', step: 'listener-any', fd: null, connection: 1, action: 'cloned', state: 'SYN-RECEIVED' });
    expect(o['hosts']).toBeInstanceOf(Array);
    // Without --frames there is no demux array.
    expect(JSON.parse(synack(['replay', WEB_MAIL, '--json']).stdout)).not.toHaveProperty('demux');
  });

  test('IPv6 endpoints print as [addr]:port', () => {
    const o = JSON.parse(synack(['replay', path.join(FIXTURES_DIR, 'web-mail-v6.pcap'), '--json']).stdout) as { connections: { client: string; server: string }[] };
    expect(o.connections[0]).toMatchObject({ client: '[2001:db8::11]:40001', server: '[2001:db8::1]:80' });
  });

  test('--ndjson streams verdicts and connections as they are final, then the summary', () => {
    const r = synack(['replay', WEB_MAIL, '--ndjson', '--frames']);
    expect(r.code).toBe(0);
    const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; frame?: number; id?: number });
    expect(objs.filter((x) => x.type === 'demux')).toHaveLength(90);
    expect(objs.filter((x) => x.type === 'connection').map((x) => x.id).sort((a, b) => (a as number) - (b as number))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const last = objs[objs.length - 1] as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'summary', file: WEB_MAIL, frames: { total: 96, tcp: 90 } });
    expect(last).not.toHaveProperty('connections');
    // Verdicts come in frame order.
    const frames = objs.filter((x) => x.type === 'demux').map((x) => x.frame as number);
    expect(frames).toEqual([...frames].sort((a, b) => a - b));
  });

  test('--listen ADDR:PORT binds a listener to the exact address', () => {
    const o = JSON.parse(synack(['replay', WEB_MAIL, '--json', '--frames', '--listen', '198.18.0.1:25']).stdout) as { demux: { frame: number; step: string }[] };
    expect(o.demux.find((v) => v.frame === 34)?.step).toBe('listener-exact');
    expect(o.demux.find((v) => v.frame === 3)?.step).toBe('listener-any');
  });
});

describe('synack replay: errors', () => {
  test('a damaged file: everything before the damage, then exit 2 with the offset and frame', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'synack-replay-'));
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, readFileSync(WEB_MAIL).subarray(0, 3000));
    const r = synack(['replay', cut]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^synack: ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: offset \\d+, frame \\d+: .*truncated`));
    expect(r.stderr).toMatch(/replayed before the error\n$/);
    expect(r.stdout).toMatch(/^.*cut\.pcap: pcap, link type 1 ETHERNET; \d+ frames/);
    const j = synack(['replay', cut, '--json']);
    expect(j.code).toBe(2);
    expect((JSON.parse(j.stdout) as { error: { frame: number } }).error.frame).toBeGreaterThan(1);
  });

  test('not a capture, a missing file: exit 2', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'synack-replay-'));
    const junk = path.join(dir, 'junk.pcap');
    writeFileSync(junk, 'this is not a capture file');
    const r = synack(['replay', junk]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown magic');
    expect(synack(['replay', path.join(dir, 'missing.pcap')]).code).toBe(2);
  });

  test('usage errors: exit 2', () => {
    expect(synack(['replay']).code).toBe(2);
    expect(synack(['replay', WEB_MAIL, '--listen', 'nonsense']).stderr).toContain('--listen needs ADDR:PORT');
    expect(synack(['replay', WEB_MAIL, '--json', '--ndjson']).code).toBe(2);
    expect(synack(['replay', WEB_MAIL, '--at', 'x']).code).toBe(2);
  });

  test('-q: only the closing counts, on stderr', () => {
    const r = synack(['replay', WEB_MAIL, '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('96 frames, 90 TCP, 9 connections, 0 malformed, 0 bad TCP checksums, 0 anomalies\n');
  });
});

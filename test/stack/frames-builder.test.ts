/** testing/frames: built frames are what tshark and synack's own decoder read back, and a Host takes them. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect, test } from 'vitest';
import { MemorySink, PcapWriter } from '../../src/capture/index.js';
import { opt, tcpFrame } from '../../src/testing/frames.js';
import { Network, installMatchers } from '../../src/testing/index.js';
installMatchers(expect);

const syn = { from: '198.18.0.2:40000', to: '198.18.0.1:80', flags: 'S', seq: 1000, options: [opt.mss(1460), opt.sackOk(), opt.ts(1, 0), opt.nop(), opt.wscale(7)] };

test('tshark reads built IPv4, IPv6 and VLAN frames with good checksums and the fields given', () => {
  const frames = [
    tcpFrame(syn),
    tcpFrame({ ...syn, from: '[2001:db8::2]:40000', to: '[2001:db8::1]:80' }),
    tcpFrame({ ...syn, flags: 'P.', seq: 1001, ack: 7, payload: 'hello', options: [opt.nop(), opt.nop(), opt.ts(2, 9)], vlans: [10, 20] }),
  ];
  const sink = new MemorySink();
  const w = new PcapWriter(sink, { linkType: 1 });
  frames.forEach((f, i) => w.writePacket(1_700_000_000, i, f));
  w.close();
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'synack-fb-')), 'built.pcap');
  writeFileSync(file, sink.toUint8Array());
  const out = execFileSync(
    'tshark',
    ['-n', '-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.relative_sequence_numbers:FALSE', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
      '-e', 'tcp.flags.str', '-e', 'tcp.seq_raw', '-e', 'tcp.ack_raw', '-e', 'tcp.len', '-e', 'tcp.option_kind', '-e', 'tcp.checksum.status', '-e', 'vlan.id'],
    { encoding: 'utf8' },
  );
  const rows = out.trim().split('\n').map((l) => l.split('\t'));
  expect(rows.map((r) => r[1])).toEqual(['1000', '1000', '1001']);
  expect(rows.map((r) => r[4])).toEqual(['2,4,8,1,3', '2,4,8,1,3', '1,1,8']);
  expect(rows.map((r) => r[5])).toEqual(['1', '1', '1']); // tshark: 1 = good checksum
  expect(rows[2]?.[3]).toBe('5');
  expect(rows[2]?.[6]).toBe('10,20');
});

test('a Host answers a built SYN with a SYN-ACK', () => {
  const net = new Network();
  const server = net.attach({ mac: '02:00:00:00:00:01', ipv4: ['198.18.0.1'], trace: true, neighbors: { '198.18.0.2': '02:00:00:00:00:02' } });
  const l = server.sockets.socket('inet') as number;
  server.sockets.bind(l, '0.0.0.0', 80);
  server.sockets.listen(l, 8);
  server.input(tcpFrame(syn), 0);
  expect(server).toHaveDemuxed(1, { step: 'listener-any', listenerFd: 3, action: 'cloned' });
  expect(server).toHaveSent({ flags: 'S.', ack: 1001, dst: '198.18.0.2.40000' });
});

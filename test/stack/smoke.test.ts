import { expect, test } from 'vitest';
import { Network } from '../../src/testing/network.js';
import { isErrno } from '../../src/socket/errno.js';

const text = (u: Uint8Array): string => new TextDecoder().decode(u);

test('two hosts: web and mail listeners, one connection each, data both ways, clean close', () => {
  const net = new Network();
  const server = net.attach({ name: 'server', mac: '02:00:00:00:00:01', ipv4: ['198.18.0.1'], trace: true });
  const client = net.attach({ name: 'client', mac: '02:00:00:00:00:02', ipv4: ['198.18.0.2'], trace: true });
  const s = server.sockets;
  const web = s.socket('inet') as number;
  expect(s.bind(web, '0.0.0.0', 80)).toBe(0);
  expect(s.listen(web, 128)).toBe(0);
  const mail = s.socket('inet') as number;
  expect(s.bind(mail, '198.18.0.1', 25)).toBe(0);
  expect(s.listen(mail, 128)).toBe(0);

  const c = client.sockets;
  const a = c.socket('inet') as number;
  const b = c.socket('inet') as number;
  client.now();
  expect(c.connect(a, '198.18.0.1', 80)).toBe('EINPROGRESS');
  expect(c.connect(b, '198.18.0.1', 25)).toBe('EINPROGRESS');
  net.run();

  server.now();
  const wa = s.accept(web);
  const ma = s.accept(mail);
  if (isErrno(wa) || isErrno(ma)) throw new Error(`accept: ${String(wa)} ${String(ma)}`);
  expect(wa.fd).toBe(5);
  expect(ma.fd).toBe(6);
  expect(s.getsockname(wa.fd)).toEqual({ address: '198.18.0.1', port: 80 });
  expect(s.getsockname(ma.fd)).toEqual({ address: '198.18.0.1', port: 25 });

  client.now();
  expect(c.send(a, new TextEncoder().encode('GET / HTTP/1.0\r\n'))).toBe(16);
  net.run();
  server.now();
  expect(text(s.recv(wa.fd) as Uint8Array)).toBe('GET / HTTP/1.0\r\n');
  expect(s.send(wa.fd, new TextEncoder().encode('HTTP/1.0 200 OK\r\n'))).toBe(17);
  net.run();
  client.now();
  expect(text(c.recv(a) as Uint8Array)).toBe('HTTP/1.0 200 OK\r\n');

  client.now();
  expect(c.close(a)).toBe(0);
  net.run(net.clock.now() + 1_000_000);
  server.now();
  expect((s.recv(wa.fd) as Uint8Array).length).toBe(0);
  expect(s.close(wa.fd)).toBe(0);
  net.run(net.clock.now() + 1_000_000);

  const demux = server.trace.filter((e) => e.type === 'demux');
  const steps = demux.map((e) => (e.type === 'demux' ? `${e.step}:${e.action}` : ''));
  expect(steps.slice(0, 4)).toEqual(['listener-any:cloned', 'listener-exact:cloned', 'syn-received:delivered', 'syn-received:delivered']);
  const clientSide = client.sockets.list().map((x) => x.tcb.state);
  expect(clientSide).toContain('TIME-WAIT');
});

import { expect, test } from 'vitest';
import { Network } from '../../src/testing/network.js';
import { ErrnoError } from '../../src/socket/errno.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (u: Uint8Array): string => new TextDecoder().decode(u);

function pair() {
  const net = new Network();
  const server = net.attach({ mac: '02:00:00:00:00:01', ipv4: ['198.18.0.1'] });
  const client = net.attach({ mac: '02:00:00:00:00:02', ipv4: ['198.18.0.2'] });
  return { net, server, client };
}

test('accept, connect and recv as promises resolve when the network delivers', async () => {
  const { net, server, client } = pair();
  const l = server.sockets.socket('inet') as number;
  server.sockets.bind(l, '0.0.0.0', 7);
  server.sockets.listen(l, 16);
  const accepted = server.accept(l);
  const c = client.sockets.socket('inet') as number;
  const connected = client.connect(c, '198.18.0.1', 7);
  net.run();
  await expect(connected).resolves.toBe(0);
  const a = await accepted;
  expect(a.peer.address).toBe('198.18.0.2');
  const got = server.recv(a.fd);
  client.sockets.send(c, enc('ping'));
  net.run();
  expect(dec(await got)).toBe('ping');
});

test('a connect to a closed port rejects with ECONNREFUSED', async () => {
  const { net, client } = pair();
  const c = client.sockets.socket('inet') as number;
  const p = client.connect(c, '198.18.0.1', 9);
  net.run();
  await expect(p).rejects.toMatchObject({ errno: 'ECONNREFUSED' });
});

test('a non-blocking descriptor rejects with EAGAIN instead of waiting', async () => {
  const { server } = pair();
  const l = server.sockets.socket('inet') as number;
  server.sockets.bind(l, '0.0.0.0', 7);
  server.sockets.listen(l, 16);
  server.sockets.fcntl(l, 'F_SETFL', 0o4000);
  await expect(server.accept(l)).rejects.toBeInstanceOf(ErrnoError);
  await expect(server.accept(l)).rejects.toMatchObject({ errno: 'EAGAIN' });
});

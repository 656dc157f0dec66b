// A TCP proxy in front of a server, whose network a test can make fall silent: the connections stay open and
// nothing crosses them, as when a host or a link drops its packets (a black-holed route, a firewall that drops).
// What was sent meanwhile waits and crosses once the network is back, as TCP retransmits it.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Nothing crosses from now on, in either direction; new connections are accepted and wait. */
  silence(): void;
  /** Everything that waited crosses, and the proxy forwards again. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let silent = false;
  const sockets = new Set<net.Socket>();
  /** What each side sent while the network was silent, to be delivered once it is back. */
  const held: { to: net.Socket; data: Buffer }[] = [];
  const forward = (from: net.Socket, to: net.Socket) => {
    from.on('data', (data: Buffer) => (silent ? held.push({ to, data }) : to.write(data)));
    from.on('close', () => to.destroy());
    from.on('error', () => from.destroy());
    sockets.add(from);
    from.on('close', () => sockets.delete(from));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    silence() {
      silent = true;
    },
    restore() {
      silent = false;
      for (const { to, data } of held.splice(0)) if (!to.destroyed) to.write(data);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// A TCP port free on 127.0.0.1 right now, for a server a test starts (HTTP, embedded PostgreSQL, Prometheus).
// Chosen below the kernel's range of ephemeral ports: a port the kernel handed out (listen(0)) and that was
// then closed can be taken again at any moment by an outgoing connection's local end, and the server started
// on it a moment later fails with EADDRINUSE.
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** The lowest ephemeral port (Linux's ip_local_port_range; 32768 where it cannot be read). */
function ephemeralFloor(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

const LOWEST = 10_000;

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const span = Math.max(1000, ephemeralFloor() - LOWEST);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * span);
    if (await free(port)) return port;
  }
  throw new Error('no free TCP port found below the ephemeral range');
}

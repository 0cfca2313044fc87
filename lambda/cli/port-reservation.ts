/**
 * Holds a TCP port from the moment it is checked until the real server takes it, so a taken port
 * is reported before slow start-up work (an emulator, a deploy) and nobody takes it meanwhile.
 */
import * as net from 'node:net';
import { portTaken } from './commands/serve';

export interface PortReservation {
  /** The port held: the one asked for, or the free one picked for 0. */
  readonly port: number;
  /** Lets go of the port, for the server that will listen on it. Safe to call more than once. */
  release(): Promise<void>;
}

/** @throws CliError `PORT_IN_USE` (see serve.ts) when the port is taken */
export async function reservePort(port: number, host = '127.0.0.1'): Promise<PortReservation> {
  // Whoever connects before the real server listens (an IoT rule's confirmation request to the
  // telemetry URL, during the deploy) is turned away at once: an accepted connection left open
  // would keep close(), and so the real server, waiting.
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? portTaken(port) : error));
    server.listen({ port, host, exclusive: true }, resolve);
  });
  // Held, but never a reason to keep the process alive.
  server.unref();
  let released: Promise<void> | undefined;
  return {
    port: (server.address() as net.AddressInfo).port,
    release: () => (released ??= new Promise((resolve) => server.close(() => resolve()))),
  };
}

/** `preferred` when it is free now, else a free port (for printing a command that should work). */
export async function freePortNear(preferred: number, host = '127.0.0.1'): Promise<number> {
  const reservation = await reservePort(preferred, host).catch(() => reservePort(0, host));
  await reservation.release();
  return reservation.port;
}

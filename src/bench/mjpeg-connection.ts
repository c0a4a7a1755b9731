/**
 * One MJPEG viewer's connection: a raw TCP socket to 127.0.0.1 that sends
 * `GET /video` and feeds every byte it reads to an MjpegCounter. The
 * benchmarks' viewers (scripts/bench/lib/mjpeg-viewers.ts: the fan-out
 * rounds and the soak's).
 */
import type { MjpegCounter } from "./mjpeg-counter.ts";

export interface MjpegConnectionEvents {
  /** The socket is open and the request sent; `end()` closes it. */
  opened(connection: { end(): void }): void;
  /** The stream broke, the server closed it, or the connection failed (once the caller stops expecting a close, see `closing`). */
  failed(message: string): void;
  /** True once the caller has ended the connection itself: its close is then no failure. */
  closing(): boolean;
}

export function connectMjpeg(port: number, counter: MjpegCounter, on: MjpegConnectionEvents, path = "/video"): void {
  Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      binaryType: "uint8array",
      open(socket) {
        on.opened(socket);
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      },
      data(socket, data) {
        if (!counter.push(data)) {
          socket.end();
          on.failed(counter.error ?? "stream error");
        }
      },
      close() {
        if (!on.closing()) on.failed("server closed the connection");
      },
      error(_socket, err) {
        on.failed(err.message);
      },
      connectError(_socket, err) {
        on.failed(`connect: ${err.message}`);
      },
    },
  }).catch((err: unknown) => on.failed(`connect: ${String(err)}`));
}

/**
 * A flood of wrong HTTP Basic logins, each from an address of its own
 * (127.0.1.1, 127.0.1.2, …: the whole 127/8 is loopback on Linux), as an
 * attacker with many machines sends it: every address keeps asking until
 * its wrong password has been checked (401), at once again after a 503
 * (the server's queue of password checks was full).
 */
import { connect } from "node:net";

export interface FloodFigures {
  /** Wrong logins whose password was checked (401). */
  checked: number;
  /** Answers 503: not checked, the queue was full (each was asked again). */
  busy: number;
  /** Answers 429: the address was over its limit. */
  limited: number;
  /** Anything else (a closed connection, another status). */
  other: number;
  /** From the first request to the last answer. */
  ms: number;
}

/** Loopback addresses for `n` clients, none of them 127.0.0.1 (the viewers'). */
export function floodAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.${1 + Math.floor(i / 250)}.${1 + (i % 250)}.1`);
}

function statusOf(port: number, localAddress: string, path: string, authorization: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, localAddress }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\nConnection: close\r\n\r\n`);
    });
    let head = "";
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on("error", () => resolve(0));
    socket.on("close", () => resolve(0));
  });
}

/** Each address sends `perAddress` wrong logins that get checked; resolves when all have been. */
export async function floodLogins(port: number, addresses: readonly string[], perAddress: number, path = "/state"): Promise<FloodFigures> {
  const figures: FloodFigures = { checked: 0, busy: 0, limited: 0, other: 0, ms: 0 };
  const start = performance.now();
  await Promise.all(
    addresses.map(async (address, i) => {
      for (let k = 0; k < perAddress; k++) {
        const wrong = `Basic ${Buffer.from(`admin:wrong-${i}-${k}`).toString("base64")}`;
        for (let tries = 0; tries < 10_000; tries++) {
          const status = await statusOf(port, address, path, wrong);
          if (status === 401) {
            figures.checked++;
            break;
          }
          if (status === 503) {
            figures.busy++;
            await Bun.sleep(1000);
            continue;
          } // its Retry-After
          if (status === 429) figures.limited++;
          else figures.other++;
          return;
        }
      }
    }),
  );
  figures.ms = performance.now() - start;
  return figures;
}

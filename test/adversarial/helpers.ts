/**
 * Tools of the standing adversarial suite: an in-process glasscast whose app
 * is asked through `handle()` (no socket), raw HTTP over TCP for what a
 * client library would refuse to send, a healthy MJPEG viewer that counts
 * the frames it keeps getting, and the checks every test makes on an
 * answer: no stack trace, no path, no secret.
 */
import { expect } from "bun:test";
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { RTCPeerConnection } from "werift";
// The server's own objects (not the library's plain view): these tests look at its sessions and audiences.
import { createGlasscast, type Glasscast, type GlasscastConfig } from "../../src/server.ts";
import { h264Codec } from "../../src/outputs/webrtc/peer.ts";
import { mjpegParts } from "../helpers/mjpeg-client.ts";

export const ADMIN = "admin:s3cret";
export const basic = (credential = ADMIN) => ({ authorization: `Basic ${Buffer.from(credential).toString("base64")}` });

/** A glasscast in this process (small test patterns, quiet log); its app answers `ask`. */
export async function inProcess(config: GlasscastConfig): Promise<Glasscast & { ask(path: string, init?: RequestInit): Promise<Response> }> {
  const gc = await createGlasscast({
    width: 160,
    height: 120,
    fps: 5,
    logLevel: "error",
    webrtcCandidate: ["127.0.0.1"],
    ...(config.onDemand ? {} : { alwaysOn: true }),
    ...config,
  });
  return Object.assign(gc, {
    async ask(path: string, init: RequestInit = {}) {
      const res = await gc.app.handle(new Request(`http://localhost${path}`, init));
      return res;
    },
  });
}

/** The body as text, for a response that ends; a stream (MJPEG) is cancelled and "" returned. */
export async function bodyOf(res: Response): Promise<string> {
  if ((res.headers.get("content-type") ?? "").startsWith("multipart/")) {
    await res.body?.cancel();
    return "";
  }
  return res.text();
}

/** What no answer and no log line may ever hold: a stack frame, a source line, a path of this machine. */
export function expectNoLeak(text: string, secrets: readonly string[] = []): void {
  expect(text).not.toMatch(/\n\s+at .+[:(]\d+/); // a stack frame
  expect(text).not.toContain(process.cwd());
  expect(text).not.toContain("node_modules");
  expect(text.toLowerCase()).not.toContain('<!doctype html>\n<html lang="en">\n  <head>\n    <meta charset="utf'); // Bun's error page
  for (const secret of secrets) expect(text).not.toContain(secret);
}

export interface RawAnswer {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/**
 * Sends `request` byte for byte over a new TCP (or TLS) connection and reads
 * the answer until the server closes or `ms` pass (for a streaming answer:
 * whatever came). `localAddress` picks the client's loopback address.
 */
export function raw(
  port: number,
  request: string | Uint8Array,
  { tls = false, ms = 3000, localAddress }: { tls?: boolean; ms?: number; localAddress?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = tls
      ? tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "localhost" }, () => socket.write(request))
      : tcpConnect({ host: "127.0.0.1", port, localAddress }, () => socket.write(request));
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const head = split < 0 ? text : text.slice(0, split);
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), head, body: split < 0 ? "" : text.slice(split + 4) });
    };
    const timer = setTimeout(done, ms);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", done);
    socket.on("error", done);
  });
}

/**
 * A viewer that should not notice the attack: it watches `url` (MJPEG) and
 * counts the pictures. `keepsWatching(n)` waits until n more have come (a
 * count, never a rate: a busy machine is slow, not broken).
 */
export class HealthyViewer {
  frames = 0;
  error: string | null = null;
  readonly #controller = new AbortController();

  constructor(url: string, headers: Record<string, string> = {}) {
    void (async () => {
      try {
        const res = await fetch(url, { headers, signal: this.#controller.signal, tls: { rejectUnauthorized: false } } as RequestInit);
        for await (const _ of mjpegParts(res)) this.frames += 1;
        if (!this.#controller.signal.aborted) this.error = "the stream ended";
      } catch (err) {
        if (!this.#controller.signal.aborted) this.error = (err as Error).message;
      }
    })();
  }

  async keepsWatching(more = 3, timeoutMs = 20_000): Promise<void> {
    const target = this.frames + more;
    const end = Date.now() + timeoutMs;
    while (this.frames < target) {
      if (this.error) throw new Error(`the healthy viewer's stream broke: ${this.error}`);
      if (Date.now() > end) throw new Error(`the healthy viewer got ${this.frames} frames, not ${target}, in ${timeoutMs} ms`);
      await Bun.sleep(20);
    }
  }

  close(): void {
    this.#controller.abort();
  }
}

/** A WebRTC offer as a browser's would be (video, receive-only): its SDP, and the peer to close afterwards. */
export async function browserOffer(): Promise<{ sdp: string; close(): Promise<void> }> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ["127.0.0.1"],
    codecs: { video: [h264Codec()], audio: [] },
  });
  pc.addTransceiver("video", { direction: "recvonly" });
  await pc.setLocalDescription(await pc.createOffer());
  return { sdp: pc.localDescription!.sdp, close: () => pc.close() };
}

/** Everything a block of code writes on this process's stderr (glasscast's log, in-process). */
export async function capturingStderr<T>(run: () => Promise<T>): Promise<{ value: T; text: string }> {
  const original = process.stderr.write.bind(process.stderr);
  let text = "";
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    return { value: await run(), text };
  } finally {
    process.stderr.write = original;
  }
}

/**
 * A small RTSP 1.0 client over one TCP connection, for tests and the
 * rtsp-fanout benchmark: it sends requests, reads responses, and over an
 * interleaved session counts what arrives without decoding any picture:
 * access units (RTP packets with the marker bit), keyframes (an IDR slice
 * alone, in a STAP-A or starting an FU-A), sequence gaps, and RTCP sender
 * reports. Cheap enough that fifty of them cost little next to the server.
 */
import type { Socket } from "bun";

export interface RtspReply {
  readonly status: number;
  /** Header names in lower case (repeated ones joined by "\n"). */
  readonly headers: Map<string, string>;
  readonly body: string;
}

export interface RtpCounts {
  packets: number;
  accessUnits: number;
  keyframes: number;
  /** The first access unit was a keyframe with SPS and PPS before its slice. */
  startedClean: boolean | null;
  sequenceGaps: number;
  firstSeq: number | null;
  firstTimestamp: number | null;
  ssrc: number | null;
  senderReports: number;
  bytes: number;
  /** performance.now() of the first access unit's end, or null. */
  firstFrameAt: number | null;
}

export class RtspClient {
  readonly counts: RtpCounts = {
    packets: 0,
    accessUnits: 0,
    keyframes: 0,
    startedClean: null,
    sequenceGaps: 0,
    firstSeq: null,
    firstTimestamp: null,
    ssrc: null,
    senderReports: 0,
    bytes: 0,
    firstFrameAt: null,
  };
  /** Called at the end of each access unit. */
  onAccessUnit: ((keyframe: boolean) => void) | null = null;
  #socket: Socket<undefined> | null = null;
  #buffer = Buffer.alloc(0);
  #waiting: { resolve: (r: RtspReply) => void; reject: (e: Error) => void }[] = [];
  #cseq = 1;
  #closed = false;
  #closedPromise: Promise<void>;
  #onClosed!: () => void;
  #lastSeq: number | null = null;
  /** NAL types seen in the access unit being received. */
  #types = new Set<number>();
  #firstTypes: number[] = [];
  session: string | null = null;
  rtpChannel = 0;

  private constructor(
    readonly host: string,
    readonly port: number,
  ) {
    this.#closedPromise = new Promise((resolve) => {
      this.#onClosed = resolve;
    });
  }

  static async connect(host: string, port: number): Promise<RtspClient> {
    const client = new RtspClient(host, port);
    client.#socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_s, chunk) => client.#data(chunk),
        close: () => client.#end(new Error("connection closed")),
        error: (_s, err) => client.#end(err),
      },
    });
    return client;
  }

  get closed(): boolean {
    return this.#closed;
  }
  /** Resolves when the server closes the connection. */
  get ended(): Promise<void> {
    return this.#closedPromise;
  }

  /** Sends raw bytes (for malformed-request tests). */
  writeRaw(bytes: string | Uint8Array): void {
    this.#socket?.write(bytes);
  }

  /** Waits for the next response (after writeRaw). */
  nextReply(timeoutMs = 10_000): Promise<RtspReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no RTSP reply in time")), timeoutMs);
      this.#waiting.push({
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#parse();
    });
  }

  request(method: string, uri: string, headers: Record<string, string> = {}): Promise<RtspReply> {
    const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${this.#cseq++}`, "User-Agent: glasscast-test"];
    if (this.session && !("Session" in headers)) lines.push(`Session: ${this.session}`);
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    const reply = this.nextReply();
    this.writeRaw(lines.join("\r\n") + "\r\n\r\n");
    return reply;
  }

  /** DESCRIBE, SETUP (TCP interleaved 0-1) and PLAY of `url`; throws unless each answers 200. */
  async play(url: string, headers: Record<string, string> = {}): Promise<{ describe: RtspReply; setup: RtspReply; play: RtspReply }> {
    const describe = await this.request("DESCRIBE", url, { Accept: "application/sdp", ...headers });
    if (describe.status !== 200) throw new Error(`DESCRIBE answered ${describe.status}`);
    const q = url.indexOf("?");
    const track = q >= 0 ? `${url.slice(0, q)}/trackID=0${url.slice(q)}` : `${url.replace(/\/$/, "")}/trackID=0`;
    const setup = await this.request("SETUP", track, { Transport: "RTP/AVP/TCP;unicast;interleaved=0-1", ...headers });
    if (setup.status !== 200) throw new Error(`SETUP answered ${setup.status}`);
    this.session = setup.headers.get("session")!.split(";")[0]!;
    const play = await this.request("PLAY", url, { Range: "npt=0.000-", ...headers });
    if (play.status !== 200) throw new Error(`PLAY answered ${play.status}`);
    return { describe, setup, play };
  }

  close(): void {
    this.#socket?.end();
  }

  #end(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiting.splice(0)) w.reject(err);
    this.#onClosed();
  }

  #data(chunk: Uint8Array): void {
    this.#buffer = this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk]);
    this.#parse();
  }

  #parse(): void {
    for (;;) {
      const buf = this.#buffer;
      if (buf.length === 0) return;
      if (buf[0] === 0x24) {
        if (buf.length < 4) return;
        const length = buf.readUInt16BE(2);
        if (buf.length < 4 + length) return;
        this.#interleaved(buf[1]!, buf.subarray(4, 4 + length));
        this.#buffer = buf.subarray(4 + length);
        continue;
      }
      if (this.#waiting.length === 0) return; // a reply nobody waits for yet stays in the buffer
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers.set(name, headers.has(name) ? `${headers.get(name)}\n${value}` : value);
      }
      const length = Number(headers.get("content-length") ?? 0);
      if (buf.length < end + 4 + length) return;
      const body = buf.subarray(end + 4, end + 4 + length).toString("utf8");
      this.#buffer = buf.subarray(end + 4 + length);
      const status = Number(/^RTSP\/1\.0 (\d{3})/.exec(lines[0]!)?.[1] ?? 0);
      this.#waiting.shift()!.resolve({ status, headers, body });
    }
  }

  #interleaved(channel: number, data: Uint8Array): void {
    if (channel !== this.rtpChannel) {
      if (data[1] === 200) this.counts.senderReports++;
      return;
    }
    const c = this.counts;
    c.packets++;
    c.bytes += data.length;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const seq = view.getUint16(2);
    if (c.firstSeq === null) {
      c.firstSeq = seq;
      c.firstTimestamp = view.getUint32(4);
      c.ssrc = view.getUint32(8);
    }
    if (this.#lastSeq !== null && seq !== ((this.#lastSeq + 1) & 0xffff)) c.sequenceGaps++;
    this.#lastSeq = seq;
    const payload = data.subarray(12);
    const type = payload[0]! & 0x1f;
    if (type === 24) {
      // STAP-A
      for (let pos = 1; pos + 2 < payload.length; ) {
        const size = (payload[pos]! << 8) | payload[pos + 1]!;
        this.#nal(payload[pos + 2]! & 0x1f);
        pos += 2 + size;
      }
    } else if (type === 28) {
      // FU-A: the start fragment names the unit
      if (payload[1]! & 0x80) this.#nal(payload[1]! & 0x1f);
    } else {
      this.#nal(type);
    }
    if (data[1]! & 0x80) {
      const keyframe = this.#types.has(5);
      c.accessUnits++;
      if (keyframe) c.keyframes++;
      if (c.startedClean === null) {
        const t = this.#firstTypes;
        c.startedClean = keyframe && t.indexOf(7) >= 0 && t.indexOf(8) >= 0 && t.indexOf(7) < t.indexOf(5) && t.indexOf(8) < t.indexOf(5);
        c.firstFrameAt = performance.now();
      }
      this.#types.clear();
      this.onAccessUnit?.(keyframe);
    }
  }

  #nal(type: number): void {
    this.#types.add(type);
    if (this.counts.startedClean === null) this.#firstTypes.push(type);
  }
}

/** Waits until `client` has counted `n` access units, or throws after `timeoutMs`. */
export async function waitForAccessUnits(client: RtspClient, n: number, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (client.counts.accessUnits < n) {
    if (performance.now() > end) throw new Error(`only ${client.counts.accessUnits} of ${n} access units came in ${timeoutMs} ms`);
    if (client.closed) throw new Error(`the connection closed after ${client.counts.accessUnits} access units`);
    await Bun.sleep(20);
  }
}

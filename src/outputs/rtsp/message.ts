/**
 * RTSP 1.0 messages (RFC 2326) as they arrive on a TCP connection: requests
 * (a request line, headers, an optional body of Content-Length bytes)
 * mixed with interleaved binary frames ('$', channel, 16-bit length, data:
 * a client's RTCP receiver reports when it plays over TCP).
 *
 * The reader is incremental (a request may arrive a byte at a time) and
 * bounded: a head over MAX_HEAD_BYTES or a body over MAX_BODY_BYTES is an
 * error, after which the connection cannot be resynchronised and is closed.
 */

/** Longest request line plus headers (real clients send well under 2 KiB). */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Longest body (SET_PARAMETER, GET_PARAMETER). */
export const MAX_BODY_BYTES = 16 * 1024;

export interface RtspRequest {
  readonly method: string;
  readonly uri: string;
  readonly version: string;
  /** Header names in lower case; a repeated header keeps its values joined by ", ". */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array;
}

export type Incoming =
  | { readonly type: "request"; readonly request: RtspRequest }
  | { readonly type: "interleaved"; readonly channel: number; readonly data: Uint8Array }
  /** Unreadable input: answer `status` and close the connection. */
  | { readonly type: "error"; readonly status: 400 | 413 | 505; readonly reason: string; readonly cseq: string | null };

const CRLFCRLF = Buffer.from("\r\n\r\n");
const LFLF = Buffer.from("\n\n");

export class RtspReader {
  /** Unread bytes live in #store[#start, #end); it grows by doubling, so a request sent a byte at a time costs O(n). */
  #store: Buffer = Buffer.alloc(4096);
  #start = 0;
  #end = 0;
  /** Where the search for the end of the head resumes (bytes before it were searched already). */
  #searched = 0;
  /** A request whose head is read and whose body is still coming. */
  #waitingBody: { request: RtspRequest; start: number } | null = null;
  #failed = false;

  /** Takes bytes; returns the messages completed by them. After an error nothing more is read. */
  push(chunk: Uint8Array): Incoming[] {
    if (this.#failed) return [];
    this.#append(chunk);
    const out: Incoming[] = [];
    for (;;) {
      const message = this.#next();
      if (!message) break;
      out.push(message);
      if (message.type === "error") {
        this.#failed = true;
        this.#start = this.#end = 0;
        break;
      }
    }
    return out;
  }

  #append(chunk: Uint8Array): void {
    const length = this.#end - this.#start;
    if (this.#end + chunk.length > this.#store.length) {
      const size = Math.max(this.#store.length, length + chunk.length);
      const target = size > this.#store.length || this.#start === 0 ? Buffer.alloc(Math.max(size, this.#store.length * 2)) : this.#store;
      this.#store.copy(target, 0, this.#start, this.#end);
      this.#store = target;
      this.#start = 0;
      this.#end = length;
    }
    this.#store.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Drops `n` bytes from the front. */
  #consume(n: number): void {
    this.#start += n;
    this.#searched = 0;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  #next(): Incoming | null {
    // Blank lines between requests are allowed (RFC 2326 15.1 keeps HTTP's leniency).
    while (!this.#waitingBody && this.#start < this.#end && (this.#store[this.#start] === 0x0d || this.#store[this.#start] === 0x0a)) this.#consume(1);
    if (this.#start === this.#end) return null;
    const store = this.#store;
    if (store[this.#start] === 0x24) {
      // '$', read in place: a flood of tiny frames must cost little each
      const at = this.#start;
      if (this.#end - at < 4) return null;
      const length = (store[at + 2]! << 8) | store[at + 3]!;
      if (this.#end - at < 4 + length) return null;
      const data = new Uint8Array(length);
      data.set(new Uint8Array(store.buffer, store.byteOffset + at + 4, length));
      this.#consume(4 + length);
      return { type: "interleaved", channel: store[at + 1]!, data };
    }
    const buf = store.subarray(this.#start, this.#end);
    if (this.#waitingBody) {
      const { request, start } = this.#waitingBody;
      if (buf.length < start + request.body.length) return null;
      this.#waitingBody = null;
      const body = Uint8Array.prototype.slice.call(buf, start, start + request.body.length);
      this.#consume(start + body.length);
      return { type: "request", request: { ...request, body } };
    }
    const from = Math.max(0, this.#searched - 3);
    let end = buf.indexOf(CRLFCRLF, from);
    let sep = 4;
    const lf = buf.indexOf(LFLF, from);
    if (lf >= 0 && (end < 0 || lf < end)) {
      end = lf;
      sep = 2;
    }
    if (end < 0) {
      this.#searched = buf.length;
      if (buf.length > MAX_HEAD_BYTES) return { type: "error", status: 400, reason: `request head longer than ${MAX_HEAD_BYTES} bytes`, cseq: null };
      return null;
    }
    if (end > MAX_HEAD_BYTES) return { type: "error", status: 400, reason: `request head longer than ${MAX_HEAD_BYTES} bytes`, cseq: null };
    const head = buf.subarray(0, end).toString("latin1");
    const lines = head.split(/\r?\n/);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) return { type: "error", status: 400, reason: "a header line without a name and a colon", cseq: headers.get("cseq") ?? null };
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const before = headers.get(name);
      headers.set(name, before === undefined ? value : `${before}, ${value}`);
    }
    const cseq = headers.get("cseq") ?? null;
    const m = /^([A-Za-z_]{1,32}) (\S{1,4096}) (RTSP\/\d\.\d)$/.exec(lines[0]!);
    if (!m) return { type: "error", status: 400, reason: "not an RTSP request line (METHOD URI RTSP/1.0)", cseq };
    if (m[3] !== "RTSP/1.0") return { type: "error", status: 505, reason: `${m[3]} is not spoken here; RTSP/1.0 is`, cseq };
    const lengthText = headers.get("content-length") ?? "0";
    const length = /^\d{1,9}$/.test(lengthText) ? Number(lengthText) : NaN;
    if (!Number.isFinite(length)) return { type: "error", status: 400, reason: "Content-Length is not a number", cseq };
    if (length > MAX_BODY_BYTES) return { type: "error", status: 413, reason: `a body over ${MAX_BODY_BYTES} bytes`, cseq };
    const start = end + sep;
    if (buf.length < start + length) {
      // The head is read once; the body's length stands in the request until the body is here.
      this.#waitingBody = { request: { method: m[1]!, uri: m[2]!, version: m[3], headers, body: new Uint8Array(length) }, start };
      return null;
    }
    const body = Uint8Array.prototype.slice.call(buf, start, start + length);
    this.#consume(start + length);
    return { type: "request", request: { method: m[1]!, uri: m[2]!, version: m[3], headers, body } };
  }
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Request Entity Too Large",
  429: "Too Many Requests",
  451: "Parameter Not Understood",
  453: "Not Enough Bandwidth",
  454: "Session Not Found",
  455: "Method Not Valid in This State",
  459: "Aggregate Operation Not Allowed",
  461: "Unsupported Transport",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "RTSP Version Not Supported",
};

export interface RtspResponse {
  readonly status: number;
  /** Header name → value; an array is sent as that many header lines. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string;
}

/** The bytes of a response; CSeq is echoed from the request when it had one. */
export function serializeResponse(res: RtspResponse, cseq: string | null): Uint8Array {
  const lines = [`RTSP/1.0 ${res.status} ${REASONS[res.status] ?? "Error"}`];
  if (cseq !== null && /^\d{1,10}$/.test(cseq)) lines.push(`CSeq: ${cseq}`);
  lines.push("Server: glasscast", `Date: ${new Date().toUTCString()}`);
  for (const [name, value] of Object.entries(res.headers ?? {})) {
    for (const v of typeof value === "string" ? [value] : value) lines.push(`${name}: ${v}`);
  }
  const body = res.body === undefined ? null : Buffer.from(res.body, "utf8");
  if (body && body.length > 0) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1");
  return body && body.length > 0 ? Buffer.concat([head, body]) : head;
}

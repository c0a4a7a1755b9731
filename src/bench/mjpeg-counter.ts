/**
 * Counts the JPEG parts of one `GET /video` response as its bytes arrive,
 * without copying them: the response head and each part's small header are
 * the only bytes looked at; chunk data and JPEG bodies are skipped by length.
 *
 * Handles `Transfer-Encoding: chunked` (what the server sends) and a plain
 * body read until close. Every part must start with `--frame` and carry a
 * `Content-Length`; a body that does not start with FFD8 and end with FFD9
 * is counted as a bad part. With `collectBodies` each JPEG is also copied out
 * and handed to `onPart` (the soak benchmark looks at the pictures).
 *
 * With `bodyOnly` it reads a body already taken out of its HTTP response
 * (fetch's), and `strict` holds every part to glasscast's byte layout,
 * `--frame\r\nContent-Type: image/jpeg\r\nContent-Length: N\r\n\r\n<jpeg>\r\n`
 * (the tests' client, test/helpers/mjpeg-client.ts).
 */
const CR = 13;
const LF = 10;
const MAX_HEAD = 16 * 1024;
const MAX_PART_HEAD = 1024;
/** Largest JPEG copied out with `collectBodies`. */
const MAX_COLLECTED_BODY = 64 * 1024 * 1024;

enum Wire {
  Head,
  Size,
  SizeExt,
  Data,
  DataEnd,
  Identity,
  Done,
}

export interface ResponseHead {
  status: number;
  contentType: string;
  chunked: boolean;
}

export class MjpegCounter {
  head: ResponseHead | null = null;
  parts = 0;
  badParts = 0;
  bytes = 0;
  error: string | null = null;
  /** Called after each complete JPEG body: with its bytes when `collectBodies` is set, else null. */
  onPart: (body: Uint8Array | null) => void = () => {};

  constructor(
    readonly collectBodies = false,
    readonly layout: { bodyOnly?: boolean; strict?: boolean } = {},
  ) {
    if (layout.bodyOnly) this.#wire = Wire.Identity;
  }

  #wire = Wire.Head;
  #headBuf = new Uint8Array(MAX_HEAD);
  #headLen = 0;
  #chunkLeft = 0;
  #sizeDigits = 0;
  // multipart state
  #inBody = false;
  #partHead = new Uint8Array(MAX_PART_HEAD);
  #partHeadLen = 0;
  #bodyLen = 0;
  #bodyPos = 0;
  #bodyOk = true;
  #bodyBytes: Uint8Array | null = null;
  /** Strict: bytes of the CRLF after a body still to come. */
  #trail = 0;

  /** Feeds bytes as read from the socket. Returns false once the stream is unusable. */
  push(buf: Uint8Array): boolean {
    if (this.error) return false;
    this.bytes += buf.length;
    let i = 0;
    const n = buf.length;
    if (this.#wire === Wire.Head) {
      i = this.#readHead(buf);
      if (i < 0) return this.error === null;
    }
    while (i < n && this.error === null) {
      switch (this.#wire) {
        case Wire.Identity:
          this.#body(buf, i, n);
          i = n;
          break;
        case Wire.Size: {
          const c = buf[i++]!;
          const v = hexValue(c);
          if (v >= 0) {
            this.#chunkLeft = this.#chunkLeft * 16 + v;
            this.#sizeDigits++;
          } else if (c === LF) this.#endSizeLine();
          else if (c === 59 /* ; */) this.#wire = Wire.SizeExt;
          else if (c !== CR) this.#fail(`bad chunk-size byte ${c}`);
          break;
        }
        case Wire.SizeExt:
          if (buf[i++] === LF) this.#endSizeLine();
          break;
        case Wire.Data: {
          const take = Math.min(this.#chunkLeft, n - i);
          this.#body(buf, i, i + take);
          i += take;
          this.#chunkLeft -= take;
          if (this.#chunkLeft === 0) this.#wire = Wire.DataEnd;
          break;
        }
        case Wire.DataEnd: {
          const c = buf[i++]!;
          if (c === LF) this.#wire = Wire.Size;
          else if (c !== CR) this.#fail("chunk data not followed by CRLF");
          break;
        }
        case Wire.Done:
          this.#fail("bytes after the last chunk");
          break;
        case Wire.Head:
          throw new Error("unreachable");
      }
    }
    return this.error === null;
  }

  #fail(message: string): void {
    this.error ??= message;
  }

  #endSizeLine(): void {
    if (this.#sizeDigits === 0) return this.#fail("empty chunk-size line");
    this.#sizeDigits = 0;
    if (this.#chunkLeft === 0) {
      this.#wire = Wire.Done;
      this.#fail("server ended the stream");
    } else this.#wire = Wire.Data;
  }

  /** Accumulates the response head; returns the index after it, or -1 if not complete yet. */
  #readHead(buf: Uint8Array): number {
    const start = this.#headLen;
    const room = MAX_HEAD - start;
    const take = Math.min(room, buf.length);
    this.#headBuf.set(buf.subarray(0, take), start);
    this.#headLen += take;
    const end = findCrlfCrlf(this.#headBuf, Math.max(0, start - 3), this.#headLen);
    if (end < 0) {
      if (this.#headLen >= MAX_HEAD) this.#fail("response head too large");
      return -1;
    }
    const text = latin1(this.#headBuf, 0, end);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
    const contentType = /\r\ncontent-type:[ \t]*([^\r]*)/i.exec(text)?.[1] ?? "";
    const chunked = /\r\ntransfer-encoding:[ \t]*chunked/i.test(text);
    this.head = { status, contentType, chunked };
    if (status !== 200) this.#fail(`HTTP status ${status}`);
    else if (!/^multipart\/x-mixed-replace/i.test(contentType)) this.#fail(`Content-Type ${contentType}`);
    this.#wire = chunked ? Wire.Size : Wire.Identity;
    this.#headBuf = new Uint8Array(0);
    return end - start; // index in buf just after the head
  }

  /** Multipart layer: one range of body bytes (already de-chunked). */
  #body(buf: Uint8Array, s: number, e: number): void {
    while (s < e && this.error === null) {
      if (this.#inBody) {
        const take = Math.min(this.#bodyLen - this.#bodyPos, e - s);
        this.#checkMarkers(buf, s, take);
        this.#bodyBytes?.set(buf.subarray(s, s + take), this.#bodyPos);
        this.#bodyPos += take;
        s += take;
        if (this.#bodyPos === this.#bodyLen) {
          this.#inBody = false;
          if (this.layout.strict) this.#trail = 2;
          this.parts++;
          if (!this.#bodyOk) this.badParts++;
          const body = this.#bodyBytes;
          this.#bodyBytes = null;
          this.onPart(body);
        }
        continue;
      }
      // Part header: skip the CRLF that ends the previous part, then copy up to the blank line.
      const c = buf[s++]!;
      if (this.#trail > 0) {
        if (c !== (this.#trail-- === 2 ? CR : LF)) return this.#fail("part does not end with CRLF");
        continue;
      }
      if (this.#partHeadLen === 0 && !this.layout.strict && (c === CR || c === LF)) continue;
      if (this.#partHeadLen >= MAX_PART_HEAD) return this.#fail("part header too large");
      this.#partHead[this.#partHeadLen++] = c;
      if (c === LF && this.#partHeadLen >= 4 && this.#partHead[this.#partHeadLen - 3] === LF) {
        this.#startBody();
      }
    }
  }

  #startBody(): void {
    const text = latin1(this.#partHead, 0, this.#partHeadLen);
    this.#partHeadLen = 0;
    if (!text.startsWith("--frame")) return this.#fail(`part does not start with --frame: ${JSON.stringify(text.slice(0, 40))}`);
    if (this.layout.strict && !/^--frame\r\nContent-Type: image\/jpeg\r\nContent-Length: [1-9]\d*\r\n\r\n$/.test(text)) {
      return this.#fail(`bad part head ${JSON.stringify(text.slice(0, -4))}`);
    }
    const len = /\r\ncontent-length:[ \t]*(\d+)/i.exec(text)?.[1];
    if (len === undefined) return this.#fail("part without Content-Length");
    this.#bodyLen = Number(len);
    if (this.collectBodies && this.#bodyLen > MAX_COLLECTED_BODY) return this.#fail(`part of ${this.#bodyLen} bytes is too large to keep`);
    this.#bodyPos = 0;
    this.#bodyOk = this.#bodyLen >= 4;
    this.#inBody = this.#bodyLen > 0;
    this.#bodyBytes = this.collectBodies && this.#inBody ? new Uint8Array(this.#bodyLen) : null;
    if (!this.#inBody) {
      this.parts++;
      this.badParts++;
      this.onPart(this.collectBodies ? new Uint8Array(0) : null);
    }
  }

  /** Checks FFD8 at the start and FFD9 at the end of the body, for the bytes in this range. */
  #checkMarkers(buf: Uint8Array, s: number, take: number): void {
    const from = this.#bodyPos;
    const to = from + take;
    const last = this.#bodyLen - 1;
    if (from === 0 && buf[s] !== 0xff) this.#bodyOk = false;
    if (from <= 1 && to > 1 && buf[s + 1 - from] !== 0xd8) this.#bodyOk = false;
    if (from <= last - 1 && to > last - 1 && buf[s + last - 1 - from] !== 0xff) this.#bodyOk = false;
    if (to > last && buf[s + last - from] !== 0xd9) this.#bodyOk = false;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Index just after the first CRLFCRLF in buf[from, to), or -1. */
function findCrlfCrlf(buf: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (buf[i] === CR && buf[i + 1] === LF && buf[i + 2] === CR && buf[i + 3] === LF) return i + 4;
  }
  return -1;
}

function latin1(buf: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

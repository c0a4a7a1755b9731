/**
 * Reads a YUV4MPEG2 byte stream (ffmpeg's `-f yuv4mpegpipe`): one header line
 * that states size, rate and chroma layout, then `FRAME\n` + the planes of each
 * picture. Self-describing, so the capture never has to guess the picture size.
 *
 * Frames are assembled into a small ring of reused buffers: a frame's data
 * stays valid until `ringSize - 1` newer frames have been read. The Stream
 * encodes or copies a frame before then.
 */
import { rawFrameSize, type PlanarFormat, type RawFrame } from "./frame.ts";

export interface Y4mHeader {
  readonly width: number;
  readonly height: number;
  readonly format: PlanarFormat;
  /** Frames per second stated by the stream, if any. */
  readonly fps: number | null;
  readonly fullRange: boolean;
}

const NL = 0x0a;
const MAX_LINE = 1024;

export class Y4mError extends Error {}

export function parseY4mHeader(line: string): Y4mHeader {
  const fields = line.trim().split(" ");
  if (fields[0] !== "YUV4MPEG2") throw new Y4mError(`not a YUV4MPEG2 stream: ${JSON.stringify(line.slice(0, 40))}`);
  let width = 0,
    height = 0,
    fps: number | null = null,
    format: PlanarFormat = "i420",
    fullRange = false;
  for (const f of fields.slice(1)) {
    const tag = f[0],
      value = f.slice(1);
    if (tag === "W") width = Number(value);
    else if (tag === "H") height = Number(value);
    else if (tag === "F") {
      const [n, d] = value.split(":").map(Number);
      if (n && d) fps = n / d;
    } else if (tag === "C") format = chroma(value);
    else if (f === "XCOLORRANGE=FULL") fullRange = true;
  }
  if (!(width > 0 && height > 0)) throw new Y4mError(`YUV4MPEG2 header without a size: ${line.trim()}`);
  return { width, height, format, fps, fullRange };
}

function chroma(c: string): PlanarFormat {
  if (c.startsWith("420")) return "i420";
  if (c === "422") return "i422";
  if (c === "444") return "i444";
  if (c === "mono") return "gray";
  throw new Y4mError(`unsupported YUV4MPEG2 chroma layout C${c}`);
}

export class Y4mReader {
  header: Y4mHeader | null = null;
  readonly #ring: Uint8Array[] = [];
  #ringIndex = 0;
  #frameSize = 0;
  /** Bytes of the current line (header or FRAME line). */
  #line: number[] = [];
  /** Bytes of the current frame filled so far; -1 while reading a line. */
  #filled = -1;
  #current: Uint8Array | null = null;

  constructor(private readonly ringSize = 3) {}

  /** Feeds bytes from the pipe; returns the frames they completed. */
  push(chunk: Uint8Array): RawFrame[] {
    const frames: RawFrame[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#filled < 0) {
        const nl = chunk.indexOf(NL, pos);
        const end = nl < 0 ? chunk.length : nl;
        for (let i = pos; i < end; i++) this.#line.push(chunk[i]!);
        if (this.#line.length > MAX_LINE) throw new Y4mError("YUV4MPEG2 line too long: the stream is corrupt");
        pos = end;
        if (nl < 0) break;
        pos = nl + 1;
        this.#endOfLine(String.fromCharCode(...this.#line));
        this.#line = [];
        continue;
      }
      const take = Math.min(this.#frameSize - this.#filled, chunk.length - pos);
      this.#current!.set(chunk.subarray(pos, pos + take), this.#filled);
      this.#filled += take;
      pos += take;
      if (this.#filled === this.#frameSize) {
        const h = this.header!;
        frames.push({ kind: "raw", format: h.format, width: h.width, height: h.height, data: this.#current! });
        this.#filled = -1;
        this.#current = null;
      }
    }
    return frames;
  }

  #endOfLine(line: string): void {
    if (!this.header) {
      this.header = parseY4mHeader(line);
      this.#frameSize = rawFrameSize(this.header.format, this.header.width, this.header.height);
      return;
    }
    if (!line.startsWith("FRAME")) throw new Y4mError(`expected FRAME, got ${JSON.stringify(line.slice(0, 20))}`);
    this.#current = this.#nextBuffer();
    this.#filled = 0;
  }

  #nextBuffer(): Uint8Array {
    const i = this.#ringIndex;
    this.#ringIndex = (i + 1) % this.ringSize;
    let buf = this.#ring[i];
    if (!buf || buf.length !== this.#frameSize) {
      buf = new Uint8Array(new ArrayBuffer(this.#frameSize));
      this.#ring[i] = buf;
    }
    return buf;
  }
}

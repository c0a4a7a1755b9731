/**
 * bun:ffi bindings to libjpeg-turbo's TurboJPEG 2.x API (`libturbojpeg.so.0`,
 * Debian/Raspberry Pi OS package `libturbojpeg0`).
 *
 * Pictures are passed to the library zero-copy (the typed array's own memory)
 * and compressed into one output buffer that is allocated once per picture
 * size and reused for every frame (TJFLAG_NOREALLOC). A compressed JPEG is
 * returned as a view of that buffer: it is valid until the next call.
 */
import { dlopen, FFIType, ptr, CString, type Pointer } from "bun:ffi";

export type TjSubsampling = "444" | "422" | "420" | "gray";
export type TjPixelFormat = "rgb" | "bgr" | "rgba" | "bgra" | "gray";

const SUBSAMP: Record<TjSubsampling, number> = { "444": 0, "422": 1, "420": 2, gray: 3 };
const SUBSAMP_NAME: readonly TjSubsampling[] = ["444", "422", "420", "gray"];
const PIXEL_FORMAT: Record<TjPixelFormat, { id: number; bytes: number }> = {
  rgb: { id: 0, bytes: 3 },
  bgr: { id: 1, bytes: 3 },
  gray: { id: 6, bytes: 1 },
  rgba: { id: 7, bytes: 4 },
  bgra: { id: 8, bytes: 4 },
};

export const TJFLAG_FASTUPSAMPLE = 256;
export const TJFLAG_NOREALLOC = 1024;
export const TJFLAG_FASTDCT = 2048;
export const TJFLAG_ACCURATEDCT = 4096;

const symbols = {
  tjInitCompress: { args: [], returns: FFIType.ptr },
  tjInitDecompress: { args: [], returns: FFIType.ptr },
  tjDestroy: { args: [FFIType.ptr], returns: FFIType.i32 },
  tjBufSize: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.u64 },
  tjGetErrorStr2: { args: [FFIType.ptr], returns: FFIType.ptr },
  tjCompressFromYUV: {
    // handle, srcBuf, width, pad, height, subsamp, **jpegBuf, *jpegSize, quality, flags
    args: [FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i32,
      FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.i32],
    returns: FFIType.i32,
  },
  tjCompress2: {
    // handle, srcBuf, width, pitch, height, pixelFormat, **jpegBuf, *jpegSize, subsamp, quality, flags
    args: [FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i32,
      FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.i32],
    returns: FFIType.i32,
  },
  tjDecompressHeader3: {
    // handle, jpegBuf, jpegSize, *width, *height, *subsamp, *colorspace
    args: [FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr],
    returns: FFIType.i32,
  },
} as const;

type Lib = ReturnType<typeof dlopen<typeof symbols>>["symbols"];

/** Where the library is looked for, in order. `GLASSCAST_LIBTURBOJPEG` overrides. */
export function libraryCandidates(): string[] {
  const override = process.env.GLASSCAST_LIBTURBOJPEG;
  return override ? [override] : ["libturbojpeg.so.0", "libturbojpeg.so"];
}

export class TurboJpegUnavailable extends Error {}

let loaded: Lib | undefined;
function load(): Lib {
  if (loaded) return loaded;
  const failures: string[] = [];
  for (const name of libraryCandidates()) {
    try {
      loaded = dlopen(name, symbols).symbols;
      return loaded;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new TurboJpegUnavailable(`libturbojpeg could not be loaded (${failures.join("; ")})`);
}

/** True when the library can be loaded on this machine. */
export function turboJpegAvailable(): boolean {
  try { load(); return true; } catch { return false; }
}

export interface JpegHeader { width: number; height: number; subsampling: TjSubsampling | "unknown" }

/** One TurboJPEG compressor with its reused output buffer. Not shared between threads. */
export class TurboJpeg {
  readonly #lib: Lib;
  readonly #handle: Pointer;
  #decoder: Pointer | null = null;
  #out = new Uint8Array(0);
  #outKey = "";
  // Out-parameters live in fixed cells so no call allocates.
  readonly #bufPtrCell = new BigUint64Array(1);
  readonly #sizeCell = new BigUint64Array(1);
  readonly #intCells = new Int32Array(4);

  constructor() {
    this.#lib = load();
    const handle = this.#lib.tjInitCompress() as Pointer | null;
    if (!handle) throw new TurboJpegUnavailable("tjInitCompress failed");
    this.#handle = handle;
  }

  /** Compresses planar YUV (I420/I422/I444 or gray, rows unpadded). */
  compressYuv(src: Uint8Array, width: number, height: number, subsampling: TjSubsampling,
    quality: number, flags: number): Uint8Array {
    this.#prepare(width, height, subsampling);
    const rc = this.#lib.tjCompressFromYUV(this.#handle, src, width, 1, height, SUBSAMP[subsampling],
      ptr(this.#bufPtrCell), ptr(this.#sizeCell), quality, flags | TJFLAG_NOREALLOC);
    return this.#result(rc, "tjCompressFromYUV");
  }

  /** Compresses packed pixels (RGB, BGR, RGBA, BGRA or gray), rows unpadded. */
  compressPacked(src: Uint8Array, width: number, height: number, format: TjPixelFormat,
    subsampling: TjSubsampling, quality: number, flags: number): Uint8Array {
    const pf = PIXEL_FORMAT[format];
    this.#prepare(width, height, subsampling);
    const rc = this.#lib.tjCompress2(this.#handle, src, width, width * pf.bytes, height, pf.id,
      ptr(this.#bufPtrCell), ptr(this.#sizeCell), SUBSAMP[subsampling], quality, flags | TJFLAG_NOREALLOC);
    return this.#result(rc, "tjCompress2");
  }

  /** Reads a JPEG's size and subsampling (decoder side of the same library). */
  readHeader(jpeg: Uint8Array): JpegHeader {
    this.#decoder ??= this.#lib.tjInitDecompress() as Pointer | null;
    if (!this.#decoder) throw new Error("tjInitDecompress failed");
    const c = this.#intCells;
    const at = (i: number) => ptr(c, i * 4);
    const rc = this.#lib.tjDecompressHeader3(this.#decoder, jpeg, jpeg.byteLength, at(0), at(1), at(2), at(3));
    if (rc !== 0) throw new Error(`tjDecompressHeader3: ${this.#error(this.#decoder)}`);
    return { width: c[0]!, height: c[1]!, subsampling: SUBSAMP_NAME[c[2]!] ?? "unknown" };
  }

  close(): void {
    this.#lib.tjDestroy(this.#handle);
    if (this.#decoder) this.#lib.tjDestroy(this.#decoder);
    this.#decoder = null;
  }

  #prepare(width: number, height: number, subsampling: TjSubsampling): void {
    const key = `${width}x${height}/${subsampling}`;
    if (key !== this.#outKey) {
      const size = Number(this.#lib.tjBufSize(width, height, SUBSAMP[subsampling]));
      if (!(size > 0)) throw new Error(`tjBufSize refused ${key}`);
      this.#out = new Uint8Array(new ArrayBuffer(size));
      this.#outKey = key;
    }
    this.#bufPtrCell[0] = BigInt(ptr(this.#out));
    this.#sizeCell[0] = BigInt(this.#out.byteLength);
  }

  #result(rc: number, call: string): Uint8Array {
    if (rc !== 0) throw new Error(`${call}: ${this.#error(this.#handle)}`);
    return this.#out.subarray(0, Number(this.#sizeCell[0]));
  }

  #error(handle: Pointer): string {
    const msg = this.#lib.tjGetErrorStr2(handle);
    return msg ? new CString(msg).toString() : "unknown error";
  }
}

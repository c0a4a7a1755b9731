/**
 * bun:ffi bindings to libjpeg-turbo's TurboJPEG 2.x API (`libturbojpeg.so.0`,
 * Debian/Raspberry Pi OS package `libturbojpeg0`).
 *
 * Pictures are passed to the library zero-copy (the typed array's own memory;
 * planar YUV as one pointer and row stride per plane, tjCompressFromYUVPlanes)
 * and compressed into one output buffer that is allocated once per picture
 * size and reused for every frame (TJFLAG_NOREALLOC). A compressed JPEG is
 * returned as a view of that buffer: it is valid until the next call.
 *
 * The decoder side turns a JPEG back into planar YUV (tjDecompressToYUV2),
 * the layout glasscast's raw pictures use: planes back to back, rows
 * unpadded, chroma rounded up for odd sizes. Decoded pictures go into a
 * caller's buffer or into one buffer reused from call to call.
 */
import { dlopen, FFIType, ptr, CString, type Pointer } from "bun:ffi";

export type TjSubsampling = "444" | "422" | "420" | "gray";
export type TjPixelFormat = "rgb" | "bgr" | "rgba" | "bgra" | "gray";

const SUBSAMP: Record<TjSubsampling, number> = { "444": 0, "422": 1, "420": 2, gray: 3 };
const SUBSAMP_NAME: readonly TjSubsampling[] = ["444", "422", "420", "gray"];
/** TurboJPEG's other subsamplings (TJSAMP_440, TJSAMP_411), by number, for error messages. */
const OTHER_SUBSAMP: Record<number, string> = { 4: "4:4:0", 5: "4:1:1" };
/** JPEG colour spaces (TJCS_*) that tjDecompressToYUV2 can give as YUV. */
const TJCS_YCBCR = 1;
const TJCS_GRAY = 2;
const COLORSPACE_NAME: Record<number, string> = { 0: "RGB", 3: "CMYK", 4: "YCCK" };
/** tjGetErrorCode: the last error was a warning (damaged data decoded anyway). */
const TJERR_WARNING = 0;
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
  tjCompressFromYUVPlanes: {
    // handle, **srcPlanes, width, *strides, height, subsamp, **jpegBuf, *jpegSize, quality, flags
    args: [FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.i32],
    returns: FFIType.i32,
  },
  tjCompress2: {
    // handle, srcBuf, width, pitch, height, pixelFormat, **jpegBuf, *jpegSize, subsamp, quality, flags
    args: [FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.i32],
    returns: FFIType.i32,
  },
  tjDecompressHeader3: {
    // handle, jpegBuf, jpegSize, *width, *height, *subsamp, *colorspace
    args: [FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr],
    returns: FFIType.i32,
  },
  tjDecompressToYUV2: {
    // handle, jpegBuf, jpegSize, dstBuf, width, align, height, flags
    args: [FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i32],
    returns: FFIType.i32,
  },
  tjGetErrorCode: { args: [FFIType.ptr], returns: FFIType.i32 },
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
  try {
    load();
    return true;
  } catch {
    return false;
  }
}

export interface JpegHeader {
  width: number;
  height: number;
  subsampling: TjSubsampling | "unknown";
}

/** A JPEG decoded to planar YUV. */
export interface DecodedYuv {
  readonly width: number;
  readonly height: number;
  /** The JPEG's own: 420 gives I420, 422 I422, 444 I444, gray one plane. */
  readonly subsampling: TjSubsampling;
  /** Y, Cb, Cr planes back to back, rows unpadded; full range (JFIF). */
  readonly data: Uint8Array;
  /** libjpeg's warning when damaged data was decoded anyway (e.g. "Premature end of JPEG file"), else null. */
  readonly warning: string | null;
}

/** Bytes of planar YUV in glasscast's layout (rows unpadded, chroma rounded up). */
function yuvSize(width: number, height: number, subsampling: TjSubsampling): number {
  const cw = Math.ceil(width / 2);
  switch (subsampling) {
    case "420":
      return width * height + 2 * cw * Math.ceil(height / 2);
    case "422":
      return width * height + 2 * cw * height;
    case "444":
      return width * height * 3;
    case "gray":
      return width * height;
  }
}

/**
 * TurboJPEG pads the luma plane to whole chroma samples (tjPlaneWidth/Height:
 * an even width for 4:2:0 and 4:2:2, an even height for 4:2:0), which
 * glasscast's layout does not: the padded luma size, or null when the two
 * layouts are the same.
 */
function paddedLuma(width: number, height: number, subsampling: TjSubsampling): { width: number; height: number } | null {
  const w = (subsampling === "420" || subsampling === "422") && width % 2 === 1 ? width + 1 : width;
  const h = subsampling === "420" && height % 2 === 1 ? height + 1 : height;
  return w === width && h === height ? null : { width: w, height: h };
}

/** One TurboJPEG compressor (and decompressor) with its reused buffers. Not shared between threads. */
export class TurboJpeg {
  readonly #lib: Lib;
  readonly #handle: Pointer;
  #decoder: Pointer | null = null;
  #out = new Uint8Array(0);
  #outKey = "";
  /**
   * Decoded pictures (when the caller gives no buffer), and scratch for
   * TurboJPEG's padded luma at odd sizes (encoder and decoder, used within a call).
   */
  #yuv = new Uint8Array(0);
  #padded = new Uint8Array(0);
  #closed = false;
  // Out-parameters live in fixed cells so no call allocates.
  readonly #bufPtrCell = new BigUint64Array(1);
  readonly #sizeCell = new BigUint64Array(1);
  readonly #intCells = new Int32Array(4);
  /** tjCompressFromYUVPlanes' plane pointers and row strides (Y, Cb, Cr). */
  readonly #planes = new BigUint64Array(3);
  readonly #strides = new Int32Array(3);

  constructor() {
    this.#lib = load();
    const handle = this.#lib.tjInitCompress() as Pointer | null;
    if (!handle) throw new TurboJpegUnavailable("tjInitCompress failed");
    this.#handle = handle;
  }

  /**
   * Compresses planar YUV in glasscast's layout (I420/I422/I444 or gray,
   * planes back to back, rows unpadded, chroma rounded up for odd sizes).
   * Each plane goes to the library zero-copy with its own row stride; only
   * the luma of an odd-sized 4:2:0/4:2:2 picture is first copied into a
   * reused plane padded the way TurboJPEG reads it (see `#padLuma`).
   */
  compressYuv(src: Uint8Array, width: number, height: number, subsampling: TjSubsampling, quality: number, flags: number): Uint8Array {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new RangeError(`picture size ${width}x${height} is not a positive whole number of pixels`);
    }
    const size = yuvSize(width, height, subsampling);
    if (src.byteLength < size) {
      throw new RangeError(`a ${width}x${height} ${subsampling} picture needs ${size} bytes, got ${src.byteLength}`);
    }
    this.#prepare(width, height, subsampling);
    const luma = width * height;
    const chroma = (size - luma) / 2;
    const base = ptr(src);
    const planes = this.#planes,
      strides = this.#strides;
    const padded = paddedLuma(width, height, subsampling);
    if (padded) {
      planes[0] = BigInt(ptr(this.#padLuma(src, width, height, padded)));
      strides[0] = padded.width;
    } else {
      planes[0] = BigInt(base);
      strides[0] = width;
    }
    // Gray JPEGs read the first plane only (TurboJPEG allows NULL for the others).
    planes[1] = chroma > 0 ? BigInt(base + luma) : 0n;
    planes[2] = chroma > 0 ? BigInt(base + luma + chroma) : 0n;
    strides[1] = strides[2] = subsampling === "444" ? width : Math.ceil(width / 2);
    const rc = this.#lib.tjCompressFromYUVPlanes(
      this.#handle,
      ptr(planes),
      width,
      ptr(strides),
      height,
      SUBSAMP[subsampling],
      ptr(this.#bufPtrCell),
      ptr(this.#sizeCell),
      quality,
      flags | TJFLAG_NOREALLOC,
    );
    return this.#result(rc, "tjCompressFromYUVPlanes");
  }

  /** Compresses packed pixels (RGB, BGR, RGBA, BGRA or gray), rows unpadded. */
  compressPacked(
    src: Uint8Array,
    width: number,
    height: number,
    format: TjPixelFormat,
    subsampling: TjSubsampling,
    quality: number,
    flags: number,
  ): Uint8Array {
    const pf = PIXEL_FORMAT[format];
    this.#prepare(width, height, subsampling);
    const rc = this.#lib.tjCompress2(
      this.#handle,
      src,
      width,
      width * pf.bytes,
      height,
      pf.id,
      ptr(this.#bufPtrCell),
      ptr(this.#sizeCell),
      SUBSAMP[subsampling],
      quality,
      flags | TJFLAG_NOREALLOC,
    );
    return this.#result(rc, "tjCompress2");
  }

  /** Reads a JPEG's size and subsampling (decoder side of the same library). */
  readHeader(jpeg: Uint8Array): JpegHeader {
    const c = this.#header(jpeg);
    return { width: c[0]!, height: c[1]!, subsampling: SUBSAMP_NAME[c[2]!] ?? "unknown" };
  }

  /**
   * Decodes a JPEG into planar YUV of its own subsampling (4:2:0, 4:2:2,
   * 4:4:4 or gray; others are an error). The picture is written into `into`
   * when given (it must hold the whole picture), else into a buffer this
   * object reuses: then the result is valid until the next call. Damaged
   * data that libjpeg can still decode gives a picture with `warning` set; a
   * JPEG that cannot be decoded at all is an Error.
   */
  decompressYuv(jpeg: Uint8Array, flags = 0, into?: Uint8Array): DecodedYuv {
    const c = this.#header(jpeg);
    const width = c[0]!,
      height = c[1]!,
      subsamp = c[2]!,
      colorspace = c[3]!;
    const subsampling = SUBSAMP_NAME[subsamp];
    if (!subsampling) {
      const name = OTHER_SUBSAMP[subsamp] ?? `number ${subsamp}`;
      throw new Error(`JPEG subsampling ${name} cannot be decoded to planar YUV: only 4:2:0, 4:2:2, 4:4:4 and gray`);
    }
    if (colorspace !== TJCS_YCBCR && colorspace !== TJCS_GRAY) {
      throw new Error(`JPEG stores ${COLORSPACE_NAME[colorspace] ?? `colour space ${colorspace}`}, not YCbCr: cannot decode it to YUV`);
    }
    const size = yuvSize(width, height, subsampling);
    let out: Uint8Array;
    if (into) {
      if (into.length < size) throw new RangeError(`a ${width}x${height} ${subsampling} picture needs ${size} bytes, the buffer has ${into.length}`);
      out = into.subarray(0, size);
    } else {
      if (this.#yuv.length < size) this.#yuv = new Uint8Array(new ArrayBuffer(size));
      out = this.#yuv.subarray(0, size);
    }
    const padded = paddedLuma(width, height, subsampling);
    let target = out;
    if (padded) {
      // Odd sizes: decode in TurboJPEG's layout, then drop the luma padding.
      const paddedSize = padded.width * padded.height + (size - width * height);
      if (this.#padded.length < paddedSize) this.#padded = new Uint8Array(new ArrayBuffer(paddedSize));
      target = this.#padded.subarray(0, paddedSize);
    }
    const rc = this.#lib.tjDecompressToYUV2(this.#decoder!, jpeg, jpeg.byteLength, target, width, 1, height, flags);
    let warning: string | null = null;
    if (rc !== 0) {
      if (this.#lib.tjGetErrorCode(this.#decoder!) !== TJERR_WARNING) {
        throw new Error(`JPEG cannot be decoded: ${this.#failed(this.#decoder!)}`);
      }
      warning = this.#error(this.#decoder!);
    }
    if (padded) {
      for (let y = 0; y < height; y++) out.set(target.subarray(y * padded.width, y * padded.width + width), y * width);
      out.set(target.subarray(padded.width * padded.height), width * height);
    }
    return { width, height, subsampling, data: out, warning };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lib.tjDestroy(this.#handle);
    if (this.#decoder) this.#lib.tjDestroy(this.#decoder);
    this.#decoder = null;
  }

  /**
   * TurboJPEG reads the luma of a 4:2:0/4:2:2 picture as whole chroma samples
   * (tjPlaneWidth/Height): an even number of columns, and of rows for 4:2:0.
   * The luma is copied into the reused scratch plane with its last column and
   * row repeated into that padding, as libjpeg pads its blocks: anything else
   * there (the next row's first sample, the chroma) rings into the picture.
   */
  #padLuma(src: Uint8Array, width: number, height: number, padded: { width: number; height: number }): Uint8Array {
    const size = padded.width * padded.height;
    if (this.#padded.length < size) this.#padded = new Uint8Array(new ArrayBuffer(size));
    const plane = this.#padded;
    plane.set(src.subarray(0, width * height));
    if (padded.width > width) {
      // Spread the rows to the padded stride in place, last row first, so no row is overwritten before it moves.
      for (let y = height - 1; y >= 0; y--) {
        const to = y * padded.width;
        plane.copyWithin(to, y * width, y * width + width);
        plane[to + width] = plane[to + width - 1]!;
      }
    }
    if (padded.height > height) {
      const last = (height - 1) * padded.width;
      plane.copyWithin(height * padded.width, last, last + padded.width);
    }
    return plane;
  }

  /** tjDecompressHeader3 into the int cells: width, height, subsampling, colour space. */
  #header(jpeg: Uint8Array): Int32Array {
    this.#open();
    if (jpeg.byteLength === 0) throw new Error("JPEG cannot be decoded: no data");
    this.#decoder ??= this.#lib.tjInitDecompress() as Pointer | null;
    if (!this.#decoder) throw new Error("tjInitDecompress failed");
    const c = this.#intCells;
    const at = (i: number) => ptr(c, i * 4);
    const rc = this.#lib.tjDecompressHeader3(this.#decoder, jpeg, jpeg.byteLength, at(0), at(1), at(2), at(3));
    if (rc !== 0) throw new Error(`JPEG header cannot be read: ${this.#failed(this.#decoder)}`);
    return c;
  }

  /**
   * The error message of a failed decompression, after which the decompressor
   * is thrown away: libjpeg-turbo 2.1 leaves it inside the failed header, so
   * that the next JPEG's header would be misread ("Bogus DQT index").
   */
  #failed(decoder: Pointer): string {
    const message = this.#error(decoder);
    this.#lib.tjDestroy(decoder);
    this.#decoder = null;
    return message;
  }

  #open(): void {
    if (this.#closed) throw new Error("TurboJpeg used after close()");
  }

  #prepare(width: number, height: number, subsampling: TjSubsampling): void {
    this.#open();
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

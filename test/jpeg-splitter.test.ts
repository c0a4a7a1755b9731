/**
 * JpegSplitter: cutting a pipe's worth of concatenated JPEGs (what
 * `ffmpeg -f mjpeg -` or `rpicam-vid --codec mjpeg -o -` write) back into
 * whole images, whatever sizes the pipe reads happen to come in.
 *
 * The fixtures are real ffmpeg output: the same frames written once as an
 * MJPEG stream and once as separate files, so the files are the images the
 * splitter must give back, byte for byte.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JpegSplitter } from "../src/media/jpeg-splitter.ts";
import { TurboJpeg, turboJpegAvailable } from "../src/ffi/turbojpeg.ts";

// --- helpers ----------------------------------------------------------------

function ffmpeg(args: string[]): Uint8Array {
  const run = Bun.spawnSync(["ffmpeg", "-hide_banner", "-loglevel", "error", ...args], { stdout: "pipe", stderr: "pipe" });
  if (!run.success) throw new Error(`ffmpeg ${args.join(" ")}: ${run.stderr.toString()}`);
  return new Uint8Array(run.stdout); // a plain Uint8Array: Buffer's slice() would be a view
}

/** ffmpeg options producing `frames` MJPEG frames of the testsrc2 pattern. */
function testPattern(size: string, frames: number): string[] {
  return ["-f", "lavfi", "-i", `testsrc2=size=${size}:rate=30`, "-frames:v", String(frames), "-c:v", "mjpeg"];
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A marker segment: FF, code, big-endian length (which counts itself), payload. */
function segment(code: number, payload: Uint8Array): Uint8Array {
  const length = payload.length + 2;
  return concat(bytes(0xff, code, length >> 8, length & 0xff), payload);
}

/** Small deterministic PRNG (mulberry32), so "random" failures can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts `data` into consecutive chunks whose sizes come from `size()`. */
function chunk(data: Uint8Array, size: () => number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < data.length; ) {
    const n = Math.max(1, size());
    chunks.push(data.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

const every = (n: number) => () => n;

/** Pushes the chunks in order; returns every image, and the largest `pending` seen. */
function split(splitter: JpegSplitter, chunks: Uint8Array[]): { images: Uint8Array[]; maxPending: number } {
  const images: Uint8Array[] = [];
  let maxPending = 0;
  for (const c of chunks) {
    images.push(...splitter.push(c));
    maxPending = Math.max(maxPending, splitter.pending);
  }
  return { images, maxPending };
}

/** Compares images as Buffers so a mismatch prints something readable. */
function expectImages(actual: Uint8Array[], expected: Uint8Array[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((image, k) => {
    if (Buffer.compare(image, expected[k]!) !== 0) {
      throw new Error(`image ${k}: ${image.length} bytes differ from the expected ${expected[k]!.length}`);
    }
  });
}

function indexOfPair(data: Uint8Array, a: number, b: number, from = 0): number {
  for (let k = data.indexOf(a, from); k >= 0 && k + 1 < data.length; k = data.indexOf(a, k + 1)) {
    if (data[k + 1] === b) return k;
  }
  return -1;
}

/**
 * An APP1 "Exif" segment holding a JPEG thumbnail the way cameras write it:
 * a TIFF structure whose second IFD points at the embedded image.
 */
function exifWithThumbnail(thumbnail: Uint8Array): Uint8Array {
  const tiff = new Uint8Array(8 + 6 + 30);
  const v = new DataView(tiff.buffer);
  tiff.set(ascii("MM\0*"));
  v.setUint32(4, 8); // IFD0 at 8
  v.setUint16(8, 0); // IFD0: no entries…
  v.setUint32(10, 14); // …next IFD (IFD1, the thumbnail's) at 14
  v.setUint16(14, 2); // IFD1: two entries
  v.setUint16(16, 0x0201); // JPEGInterchangeFormat
  v.setUint16(18, 4); // LONG
  v.setUint32(20, 1);
  v.setUint32(24, tiff.length); // the thumbnail follows the TIFF structure
  v.setUint16(28, 0x0202); // JPEGInterchangeFormatLength
  v.setUint16(30, 4);
  v.setUint32(32, 1);
  v.setUint32(36, thumbnail.length);
  v.setUint32(40, 0); // no further IFD
  return segment(0xe1, concat(ascii("Exif\0\0"), tiff, thumbnail));
}

/** `image` with `segments` inserted right after its SOI. */
function withSegmentsAfterSoi(image: Uint8Array, ...segments: Uint8Array[]): Uint8Array {
  return concat(image.subarray(0, 2), ...segments, image.subarray(2));
}

// --- fixtures ----------------------------------------------------------------

const N = 30;
let dir = "";
/** ffmpeg's MJPEG stream: N images back to back. */
let stream: Uint8Array = new Uint8Array(0);
/** The same N images from `-f image2`, one file each. */
let frames: Uint8Array[] = [];
/** A small JPEG to embed as a thumbnail. */
let thumbnail: Uint8Array = new Uint8Array(0);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "jpeg-splitter-"));
  stream = ffmpeg([...testPattern("320x240", N), "-f", "mjpeg", "-"]);
  ffmpeg([...testPattern("320x240", N), "-f", "image2", join(dir, "%03d.jpg")]);
  frames = readdirSync(dir)
    .filter((f) => f.endsWith(".jpg"))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
  thumbnail = ffmpeg([...testPattern("32x24", 1), "-f", "mjpeg", "-"]);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// --- tests -------------------------------------------------------------------

describe("splitting ffmpeg's MJPEG stream", () => {
  test("fixture: the stream is exactly the separate files back to back", () => {
    expect(frames.length).toBe(N);
    expect(Buffer.compare(concat(...frames), stream)).toBe(0);
  });

  const cases: [string, () => Uint8Array[]][] = [
    ["all at once", () => [stream]],
    ["in 4096-byte chunks", () => chunk(stream, every(4096))],
    ["in 7-byte chunks (markers and length fields cut in every possible way)", () => chunk(stream, every(7))],
    [
      "in random-sized chunks (1 byte to 20 KB)",
      () => {
        const random = prng(42);
        return chunk(stream, () => (random() < 0.3 ? 1 + Math.floor(random() * 4) : Math.floor(random() * 20_000)));
      },
    ],
  ];
  for (const [name, chunks] of cases) {
    test(`gives back the ${N} images byte for byte, fed ${name}`, () => {
      const splitter = new JpegSplitter();
      const { images } = split(splitter, chunks());
      expectImages(images, frames);
      expect(splitter.pending).toBe(0);
      expect(splitter.discarded).toBe(0);
    });
  }

  test("byte by byte too (first 3 images)", () => {
    const three = stream.subarray(0, frames[0]!.length + frames[1]!.length + frames[2]!.length);
    const splitter = new JpegSplitter();
    const images: Uint8Array[] = [];
    const delivered: number[] = [];
    let at = 0;
    for (const piece of chunk(three, every(1))) {
      at += 1;
      const done = splitter.push(piece);
      images.push(...done);
      if (done.length > 0) delivered.push(at);
    }
    expectImages(images, frames.slice(0, 3));
    // Each image comes out with the push of its last byte (the D9 of EOI), not later.
    expect(delivered).toEqual([frames[0]!.length, frames[0]!.length + frames[1]!.length, three.length]);
    expect(splitter.pending).toBe(0);
  });

  test("pending counts the bytes of the unfinished image", () => {
    const splitter = new JpegSplitter();
    expect(splitter.push(stream.subarray(0, frames[0]!.length + 100))).toHaveLength(1);
    expect(splitter.pending).toBe(100);
  });

  test("a pushed chunk is the caller's again after push: images come out whole when one buffer is reused for every read", () => {
    // As a capture reads its FIFO: every chunk lands in the same buffer, overwritten by the next read.
    const buffer = new Uint8Array(4096);
    const splitter = new JpegSplitter();
    const images: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += buffer.length) {
      const n = Math.min(buffer.length, stream.length - at);
      buffer.set(stream.subarray(at, at + n));
      images.push(...splitter.push(buffer.subarray(0, n)));
      buffer.fill(0x55);
    }
    expectImages(images, frames);
  });

  test("the images are the caller's: copies, not views of the pushed chunks", () => {
    const input = stream.slice(0, frames[0]!.length + frames[1]!.length);
    const images = new JpegSplitter().push(input);
    input.fill(0);
    expectImages(images, frames.slice(0, 2));
  });
});

describe("garbage around images", () => {
  // Anything without FF D8 in it; FF and FF D9 included.
  const before = concat(ascii("--boundary\r\nContent-Type: image/jpeg\r\n\r\n"), bytes(0xff, 0xd9, 0x00, 0xff));
  const between = concat(new Uint8Array(512), bytes(0xff, 0xff, 0xff)); // zero padding, then FFs right before SOI
  const after = ascii("trailing junk");

  test("is skipped, and counted in discarded", () => {
    const input = concat(before, frames[0]!, between, frames[1]!, after);
    for (const chunks of [[input], chunk(input, every(1)), chunk(input, every(5))]) {
      const splitter = new JpegSplitter();
      expectImages(split(splitter, chunks).images, frames.slice(0, 2));
      expect(splitter.discarded).toBe(before.length + between.length + after.length);
      expect(splitter.pending).toBe(0);
    }
  });

  test("a stream joined in the middle of an image starts with the next whole one", () => {
    const joinedAt = Math.floor(frames[0]!.length / 2);
    const joinedLate = stream.subarray(joinedAt, frames[0]!.length + frames[1]!.length);
    const splitter = new JpegSplitter();
    expectImages(splitter.push(joinedLate), [frames[1]!]);
    expect(splitter.discarded).toBe(frames[0]!.length - joinedAt);
  });
});

describe("marker segments are skipped by their length", () => {
  test("an EXIF thumbnail (a whole JPEG inside APP1) does not end the image", () => {
    expect(indexOfPair(thumbnail, 0xff, 0xd9)).toBe(thumbnail.length - 2); // it has its own EOI
    const photo = withSegmentsAfterSoi(frames[0]!, exifWithThumbnail(thumbnail));
    const input = concat(photo, frames[1]!);
    for (const chunks of [[input], chunk(input, every(1)), chunk(input, every(300))]) {
      const splitter = new JpegSplitter();
      expectImages(split(splitter, chunks).images, [photo, frames[1]!]);
      expect(splitter.discarded).toBe(0);
    }
  });

  test("nor do FF D8 / FF D9 bytes in a comment", () => {
    const comment = segment(0xfe, concat(ascii("made by"), bytes(0xff, 0xd9, 0xff, 0xd8, 0xff, 0xff, 0xff)));
    const image = withSegmentsAfterSoi(frames[0]!, comment);
    expectImages(new JpegSplitter().push(concat(image, frames[1]!)), [image, frames[1]!]);
  });
});

describe("entropy-coded data", () => {
  // A hand-made progressive-style image: two scans with a DHT between them,
  // stuffed bytes (FF 00), restart markers (FF D0…D7) and fill bytes (FF FF)
  // in the scans. The splitter only needs the structure, not valid pixels.
  const header = concat(
    bytes(0xff, 0xd8),
    segment(0xe0, concat(ascii("JFIF\0"), bytes(1, 2, 0, 0, 1, 0, 1, 0, 0))),
    segment(0xdb, new Uint8Array(65).fill(1)), // DQT
    segment(0xc2, bytes(8, 0, 16, 0, 16, 1, 1, 0x11, 0)), // SOF2: progressive
    segment(0xdd, bytes(0, 4)), // DRI: restart every 4 MCUs
    segment(0xc4, concat(bytes(0x00), new Uint8Array(16).fill(0))), // DHT
  );
  const scan1 = concat(
    segment(0xda, bytes(1, 1, 0x00, 0, 0, 0x00)), // SOS, DC scan
    bytes(0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0x00, 0xff, 0xd1, 0x78),
    bytes(0xff, 0xd2, 0xff, 0x00, 0xff, 0xd3, 0x9a, 0xff, 0xd4, 0xbc, 0xff, 0xd5, 0xff, 0xd6, 0xff, 0xd7, 0xde),
  );
  const between = segment(0xc4, concat(bytes(0x10), new Uint8Array(16).fill(0))); // another DHT
  const scan2 = concat(
    bytes(0xff, 0xff), // fill before the SOS marker
    segment(0xda, bytes(1, 1, 0x00, 1, 63, 0x00)), // SOS, AC scan
    new Uint8Array(3000).fill(0xff).map((b, k) => (k % 2 ? 0x00 : b)), // FF 00 FF 00 …
    bytes(0xab, 0xff, 0xd0, 0xcd),
  );
  const synthetic = concat(header, scan1, between, scan2, bytes(0xff, 0xff, 0xff, 0xd9)); // fill before EOI

  test("stuffed bytes, restart markers, fill bytes and a second scan stay inside the image", () => {
    for (const chunks of [[synthetic], chunk(synthetic, every(1)), chunk(synthetic, every(3))]) {
      const splitter = new JpegSplitter();
      expectImages(split(splitter, [...chunks, frames[0]!]).images, [synthetic, frames[0]!]);
      expect(splitter.discarded).toBe(0);
    }
  });

  test.skipIf(!turboJpegAvailable())("a real progressive JPEG (libjpeg-turbo) comes out whole", () => {
    const rgb = ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]);
    const tj = new TurboJpeg();
    const TJFLAG_PROGRESSIVE = 16384;
    const progressive = tj.compressPacked(rgb, 320, 240, "rgb", "420", 85, TJFLAG_PROGRESSIVE).slice();
    tj.close();
    let scans = 0;
    for (let k = indexOfPair(progressive, 0xff, 0xda); k >= 0; k = indexOfPair(progressive, 0xff, 0xda, k + 2)) scans++;
    expect(scans).toBeGreaterThan(1); // several SOS, with DHTs between them

    const input = concat(frames[0]!, progressive, frames[1]!);
    for (const chunks of [[input], chunk(input, every(1)), chunk(input, every(1000))]) {
      expectImages(split(new JpegSplitter(), chunks).images, [frames[0]!, progressive, frames[1]!]);
    }
  });
});

describe("damaged images are dropped and the splitter recovers", () => {
  test("an image cut short in its data, followed by a good one: the good one comes out", () => {
    const image = frames[0]!;
    // Cut in the entropy-coded data, once anywhere and once just after an FF
    // (so the next image's SOI reads as FF FF D8: fill, then SOI).
    const sos = indexOfPair(image, 0xff, 0xda);
    const afterFf = image.indexOf(0xff, sos + 300) + 1;
    for (const cut of [Math.floor(image.length * 0.6), afterFf]) {
      const input = concat(image.subarray(0, cut), frames[1]!, frames[2]!);
      for (const chunks of [[input], chunk(input, every(1)), chunk(input, every(1000))]) {
        const splitter = new JpegSplitter();
        expectImages(split(splitter, chunks).images, [frames[1]!, frames[2]!]);
        expect(splitter.discarded).toBe(cut);
      }
    }
  });

  test("an SOI where a marker is expected starts the image over", () => {
    const cutShort = concat(bytes(0xff, 0xd8), segment(0xfe, ascii("unfinished")));
    const input = concat(cutShort, frames[0]!);
    for (const chunks of [[input], chunk(input, every(1))]) {
      const splitter = new JpegSplitter();
      expectImages(split(splitter, chunks).images, [frames[0]!]);
      expect(splitter.discarded).toBe(cutShort.length);
    }
  });

  test("a malformed segment (length < 2) drops the image; the next one comes out", () => {
    const bad = withSegmentsAfterSoi(frames[0]!, bytes(0xff, 0xfe, 0x00, 0x01));
    const input = concat(bad, frames[1]!);
    for (const chunks of [[input], chunk(input, every(1))]) {
      const splitter = new JpegSplitter();
      expectImages(split(splitter, chunks).images, [frames[1]!]);
      expect(splitter.discarded).toBe(bad.length); // the image up to the bad length, then the rest as garbage
    }
  });

  test("so does a byte other than FF where a marker must be", () => {
    const bad = withSegmentsAfterSoi(frames[0]!, segment(0xfe, ascii("ok")), bytes(0x42));
    const splitter = new JpegSplitter();
    expectImages(splitter.push(concat(bad, frames[1]!)), [frames[1]!]);
    expect(splitter.discarded).toBe(bad.length);
  });

  // Cut-short headers are the hard case: the length of the cut segment is
  // read from the next image's first bytes and reaches into it, so that
  // image's SOI is skipped over as table bytes. The structure breaks soon
  // after (no marker where one must be, an impossible SOS length, a second
  // frame header), and the splitter then searches the broken image's bytes
  // again for an SOI, from its first table on (before that come APPn
  // segments, which may legitimately hold a thumbnail's SOI).
  const headerCuts: [string, (image: Uint8Array) => number][] = [
    ["just after a marker code (the length comes from the next image's SOI)", (im) => indexOfPair(im, 0xff, 0xdb) + 2],
    ["inside a quantisation table", (im) => indexOfPair(im, 0xff, 0xdb) + 10],
    ["inside a Huffman table", (im) => indexOfPair(im, 0xff, 0xc4) + 30],
    ["inside the frame header", (im) => indexOfPair(im, 0xff, 0xc0) + 6],
    ["inside the SOS header", (im) => indexOfPair(im, 0xff, 0xda) + 6],
    ["inside the SOS length", (im) => indexOfPair(im, 0xff, 0xda) + 3],
  ];
  for (const [where, cutAt] of headerCuts) {
    test(`an image cut ${where}: the next one still comes out`, () => {
      const image = frames[0]!;
      const cut = cutAt(image);
      // All the other images: a length may reach 64 KB into the stream.
      const input = concat(image.subarray(0, cut), ...frames.slice(1));
      for (const chunks of [[input], chunk(input, every(1)), chunk(input, every(4096))]) {
        const splitter = new JpegSplitter();
        expectImages(split(splitter, chunks).images, frames.slice(1));
        expect(splitter.discarded).toBe(cut);
      }
    });
  }

  test("known limit: an image cut inside its leading APPn/COM segments costs the next one too", () => {
    // Those segments may hold a thumbnail's SOI, so they are not searched
    // again: the cut COM's length skips the next image's SOI for good.
    const image = frames[0]!;
    const cut = indexOfPair(image, 0xff, 0xfe) + 6;
    const input = concat(image.subarray(0, cut), ...frames.slice(1, 6));
    const splitter = new JpegSplitter();
    expectImages(splitter.push(input), frames.slice(2, 6));
    expect(splitter.discarded).toBe(cut + frames[1]!.length);
  });

  test("an image without a scan (no picture in it) is dropped", () => {
    const empty = bytes(0xff, 0xd8, 0xff, 0xd9);
    const splitter = new JpegSplitter();
    expectImages(splitter.push(concat(empty, frames[0]!)), [frames[0]!]);
    expect(splitter.discarded).toBe(4);
  });
});

describe("random damage", () => {
  test("every byte ends up in an image, discarded or pending; undamaged images come through", () => {
    const random = prng(7);
    const starts = frames.map((_, k) => frames.slice(0, k).reduce((n, f) => n + f.length, 0));
    const imageAt = (offset: number) => starts.findLastIndex((s) => s <= offset);
    let undamaged = 0;
    let intact = 0;
    for (let round = 0; round < 20; round++) {
      const damaged = stream.slice();
      const hit = new Set<number>();
      const spoil = (at: number, value: number) => {
        damaged[at] = value;
        hit.add(imageAt(at));
      };
      for (let k = 0; k < 10; k++) spoil(Math.floor(random() * damaged.length), Math.floor(random() * 256));
      // And marker-looking pairs: FF D8, FF D9, FF DA, FF 00, FF FF.
      for (const code of [0xd8, 0xd9, 0xda, 0x00, 0xff]) {
        const at = Math.floor(random() * (damaged.length - 1));
        spoil(at, 0xff);
        spoil(at + 1, code);
      }
      undamaged += N - hit.size;

      const max = 16 * 1024;
      const splitter = new JpegSplitter({ maxFrameBytes: max });
      let fed = 0;
      let delivered = 0;
      for (const c of chunk(damaged, () => Math.floor(random() * 3000))) {
        for (const image of splitter.push(c)) {
          expect([image[0], image[1], image[image.length - 2], image[image.length - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
          expect(image.length).toBeLessThanOrEqual(max);
          delivered += image.length;
          if (frames.some((f) => Buffer.compare(f, image) === 0)) intact++;
        }
        fed += c.length;
        expect(splitter.pending).toBeLessThanOrEqual(max);
        // At most one byte is undecided: an FF ending a chunk of garbage (half an SOI?).
        const unaccounted = fed - (delivered + splitter.discarded + splitter.pending);
        expect(unaccounted === 0 || unaccounted === 1).toBe(true);
      }
    }
    // Damage costs the damaged image, and seldom its neighbour.
    expect(intact).toBeLessThanOrEqual(undamaged);
    expect(intact).toBeGreaterThanOrEqual(Math.floor(undamaged * 0.95));
  });
});

describe("maxFrameBytes", () => {
  // 10 comments of 64 KB make an image of about 650 KB; it also carries a
  // thumbnail, which must not come out in its place.
  const comments = Array.from({ length: 10 }, () => segment(0xfe, new Uint8Array(65_000).fill(0x20)));
  const max = 256 * 1024;

  test("an oversized image is dropped, the next is delivered, and pending stays bounded", () => {
    const huge = withSegmentsAfterSoi(frames[1]!, exifWithThumbnail(thumbnail), ...comments);
    expect(huge.length).toBeGreaterThan(max);
    const input = concat(frames[0]!, huge, frames[2]!);
    for (const chunks of [[input], chunk(input, every(4096)), chunk(input, every(65_536))]) {
      const splitter = new JpegSplitter({ maxFrameBytes: max });
      const { images, maxPending } = split(splitter, chunks);
      expectImages(images, [frames[0]!, frames[2]!]);
      expect(maxPending).toBeLessThanOrEqual(max);
      expect(splitter.discarded).toBe(huge.length);
      expect(splitter.pending).toBe(0);
    }
  });

  test("an image of exactly maxFrameBytes still passes", () => {
    const splitter = new JpegSplitter({ maxFrameBytes: frames[0]!.length });
    expectImages(split(splitter, chunk(stream, every(1000))).images.slice(0, 1), [frames[0]!]);
  });

  test("must be a sensible number", () => {
    expect(() => new JpegSplitter({ maxFrameBytes: 0 })).toThrow(RangeError);
    expect(() => new JpegSplitter({ maxFrameBytes: Number.NaN })).toThrow(RangeError);
  });
});

describe("throughput (informative, not a pass/fail timing)", () => {
  test("300 frames of 640x480 in 64 KiB chunks split correctly", () => {
    const big = ffmpeg([...testPattern("640x480", 300), "-q:v", "2", "-f", "mjpeg", "-"]);
    const chunks = chunk(big, every(64 * 1024));
    const splitter = new JpegSplitter();
    const started = performance.now();
    const { images } = split(splitter, chunks);
    const ms = performance.now() - started;
    expect(images).toHaveLength(300);
    for (const image of images) {
      expect([image[0], image[1], image[image.length - 2], image[image.length - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    }
    // Nothing lost or added: the images are the stream, cut at the right places.
    expect(Buffer.compare(concat(...images), big)).toBe(0);
    expect(splitter.discarded).toBe(0);
    console.log(
      `jpeg-splitter: ${(big.length / 1e6).toFixed(1)} MB, 300 images in ${ms.toFixed(1)} ms ` + `(${(big.length / 1e6 / (ms / 1000)).toFixed(0)} MB/s)`,
    );
  });
});

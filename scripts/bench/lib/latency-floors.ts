/**
 * The floors of the latency benchmark, measured in its own run with the
 * stamp and glasscast's own encoder and decoder classes, no network:
 * - JPEG: stamp → TurboJpegEncoder (glasscast's settings) → JpegDecoder →
 *   read, in this process: what an MJPEG viewer cannot beat.
 * - H.264: stamped pictures at the stream's rate → H264Encoder (glasscast's
 *   libx264 arguments) → H264Decoder (ffmpeg, low delay) → read. Split at the
 *   moment glasscast hands an access unit on (what WebRTC, RTSP and HLS get):
 *   "encoded" is stamp → access unit handed on, "decoded" is that → picture.
 *   Run with the encoder's FLV output (what glasscast uses) and with Annex B
 *   (what it used before: a picture waited for the next one to begin).
 */
import { H264Decoder } from "../../../src/encoders/h264-decoder.ts";
import { H264Encoder, type H264Output } from "../../../src/encoders/h264-ffmpeg.ts";
import { JpegDecoder } from "../../../src/encoders/jpeg-decoder.ts";
import { defaultJpegSettings } from "../../../src/encoders/jpeg-settings.ts";
import { TurboJpegEncoder } from "../../../src/encoders/turbojpeg-encoder.ts";
import type { RawFrame } from "../../../src/stream/frame.ts";
import { drawStamp, readStampLuma, wallClockMs } from "./clock-stamp.ts";

export interface FloorFigures {
  /** Stamp → picture read back, ms, per picture. */
  total: number[];
  /** The parts, ms, per picture (e.g. encode, decode). */
  parts: Record<string, number[]>;
  misread: number;
}

/** `count` pictures of the moving test pattern, full-range I420. */
export function testPictures(width: number, height: number, count: number): RawFrame[] {
  const r = Bun.spawnSync(
    [
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "error",
      "-nostdin",
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=${width}x${height}:rate=30`,
      "-frames:v",
      String(count),
      "-vf",
      "scale=out_range=full,format=yuv420p",
      "-f",
      "rawvideo",
      "pipe:1",
    ],
    { timeout: 60_000 },
  );
  if (r.exitCode !== 0) throw new Error(`ffmpeg could not make test pictures: ${r.stderr.toString().trim().split("\n").at(-1)}`);
  const size = (width * height * 3) / 2;
  const all = new Uint8Array(r.stdout);
  return Array.from({ length: Math.floor(all.length / size) }, (_, i) => ({
    kind: "raw",
    format: "i420",
    width,
    height,
    data: all.slice(i * size, (i + 1) * size),
  }));
}

export function jpegFloor(pictures: RawFrame[], rounds: number): FloorFigures {
  const encoder = new TurboJpegEncoder(defaultJpegSettings);
  const decoder = new JpegDecoder();
  const out: FloorFigures = { total: [], parts: { encode: [], decode: [] }, misread: 0 };
  try {
    for (let i = 0; i < rounds; i++) {
      const picture = pictures[i % pictures.length]!;
      const frame = { ...picture, data: picture.data.slice() };
      const stamp = wallClockMs();
      drawStamp(frame, stamp);
      const jpeg = encoder.encode(frame);
      const encoded = wallClockMs();
      const decoded = decoder.decode(jpeg);
      const done = wallClockMs();
      const read = readStampLuma(frame.width, decoded.data, done);
      if (read === null || Math.abs(read - stamp) > 0.06) {
        out.misread++;
        continue;
      }
      out.total.push(done - read);
      out.parts.encode!.push(encoded - stamp);
      out.parts.decode!.push(done - encoded);
    }
  } finally {
    encoder.close();
    decoder.close();
  }
  return out;
}

/** `output`: how the encoder's access units come out (glasscast's choice for libx264 is FLV; Annex B, for comparison, waits for the next picture). */
export async function h264Floor(
  pictures: RawFrame[],
  fps: number,
  seconds: number,
  bitrateKbps: number,
  keyint: number,
  output: H264Output = "flv",
): Promise<FloorFigures> {
  const out: FloorFigures = { total: [], parts: { encoded: [], decoded: [] }, misread: 0 };
  const first = pictures[0]!;
  /** When each access unit was handed on, in order; a picture out takes the oldest. */
  const handedOn: number[] = [];
  const decoder = new H264Decoder(
    "ffmpeg",
    "gray",
    (picture) => {
      const now = wallClockMs();
      const at = handedOn.shift();
      const read = readStampLuma(picture.width, picture.data, now);
      if (read === null || at === undefined) {
        out.misread++;
        return;
      }
      out.total.push(now - read);
      out.parts.encoded!.push(at - read);
      out.parts.decoded!.push(now - at);
    },
    "floor-h264-decoder",
  );
  const encoder = new H264Encoder(
    "ffmpeg",
    { kind: "raw", format: "i420", width: first.width, height: first.height },
    { encoder: "libx264", bitrateKbps, keyint },
    fps,
    (au) => {
      handedOn.push(wallClockMs());
      decoder.write(annexB(au.nals), au.keyframe);
    },
    "floor-h264-encoder",
    output,
  );
  try {
    const count = Math.round(seconds * fps);
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const picture = pictures[i % pictures.length]!;
      const frame = { ...picture, data: picture.data.slice() };
      drawStamp(frame);
      encoder.write(frame);
      const next = start + ((i + 1) * 1000) / fps;
      await Bun.sleep(Math.max(0, next - performance.now()));
    }
    // Until every picture is back out of the decoder (the encoder may drop its first while probing, the
    // decoder hold its last): 2 s without a new one ends it, 30 s at most on a starved machine.
    const deadline = performance.now() + 30_000;
    let seen = -1;
    let quietSince = performance.now();
    while (performance.now() < deadline) {
      const done = out.total.length + out.misread;
      if (done >= count - 1) break;
      if (done !== seen) [seen, quietSince] = [done, performance.now()];
      else if (done > 0 && performance.now() - quietSince > 2000) break;
      await Bun.sleep(50);
    }
  } finally {
    await encoder.stop();
    await decoder.stop();
  }
  return out;
}

/** An access unit's NAL units as Annex B (4-byte start codes), for a decoder's stdin. */
export function annexB(nals: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(nals.reduce((n, nal) => n + 4 + nal.length, 0));
  let at = 0;
  for (const nal of nals) {
    out.set([0, 0, 0, 1], at);
    out.set(nal, at + 4);
    at += 4 + nal.length;
  }
  return out;
}

/**
 * The HLS segmenter with sound, on real H.264 and made-up Opus packets
 * stamped on one clock (as the feeds do, across the 90 kHz timestamps'
 * 32-bit wrap): each packet lands once, in the part its time falls in, at
 * the decode time its timestamp says on the picture's timeline, one after
 * the other; a segmenter without sound makes one track, as before.
 */
import { describe, expect, test } from "bun:test";
import { Segmenter, type SegmenterSettings } from "../src/outputs/hls/segmenter.ts";
import type { TimedAccessUnit } from "../src/encoders/h264-ffmpeg.ts";
import { AnnexBParser } from "../src/media/h264/annexb.ts";

function encode(frames: number): TimedAccessUnit[] {
  const r = Bun.spawnSync(
    "ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=160x120:rate=10 -c:v libx264 -preset ultrafast -tune zerolatency -bf 0 -g 10 -keyint_min 10 -sc_threshold 0 -x264-params repeat-headers=1 -f h264 pipe:1"
      .split(" ")
      .flatMap((a, i) => (i === 12 ? ["-frames:v", String(frames), a] : [a])),
  );
  expect(r.exitCode).toBe(0);
  const parser = new AnnexBParser();
  return [...parser.push(new Uint8Array(r.stdout)), ...parser.flush()].map((au) => ({ ...au, timestamp: 0 }));
}

/** Each `traf` of a fragment: track, base decode time, sample durations. */
function trafs(b: Uint8Array): { track: number; base: number; durations: number[] }[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: { track: number; base: number; durations: number[] }[] = [];
  const walk = (at: number, end: number) => {
    while (at + 8 <= end) {
      const size = v.getUint32(at);
      const type = String.fromCharCode(...b.subarray(at + 4, at + 8));
      if (type === "moof") walk(at + 8, at + size);
      if (type === "traf") out.push({ track: 0, base: 0, durations: [] });
      if (type === "traf") walk(at + 8, at + size);
      const t = out.at(-1);
      if (type === "tfhd") t!.track = v.getUint32(at + 12);
      if (type === "tfdt") t!.base = v.getUint32(at + 12) * 2 ** 32 + v.getUint32(at + 16);
      if (type === "trun") {
        const flags = v.getUint32(at + 8) & 0xffffff;
        const n = v.getUint32(at + 12);
        const per = 4 * [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
        for (let i = 0; i < n; i++) t!.durations.push(v.getUint32(at + 20 + i * per));
      }
      at += size;
    }
  };
  walk(0, b.length);
  return out;
}

const SETTINGS: SegmenterSettings = { partTargetS: 0.23, framesPerPart: 2, maxSegmentS: 2, keepSegments: 6, keepPartSegments: 3 };

describe("the segmenter with sound", () => {
  test("each packet once, at its timestamp's place on the picture's timeline, across the 90 kHz wrap", () => {
    const aus = encode(40);
    const start = 2 ** 32 / 90 - 1500; // ms: the pictures' timestamps wrap 1.5 s in
    let clock = start;
    const s = new Segmenter({ ...SETTINGS, audio: true, clock: () => clock });
    const AUDIO_START = 37; // ms after the first picture: the sound starts a little later
    let packets = 0;
    let nextAudio = start + AUDIO_START;
    for (let i = 0; i < aus.length; i++) {
      const t = start + i * 100;
      // Packets up to the picture's time come first (they come every 20 ms, the picture every 100).
      while (nextAudio <= t) {
        clock = nextAudio + 3;
        s.pushAudio({ payload: new Uint8Array([0xf8, packets & 0xff]), timestamp: Math.round(nextAudio * 48) >>> 0, samples: 960 });
        packets++;
        nextAudio += 20;
      }
      clock = t + 5;
      s.push({ ...aus[i]!, timestamp: Math.round(t * 90) >>> 0 });
    }
    const parts = s.segments.flatMap((x) => x.parts).map((p) => trafs(p.bytes));
    expect(parts.every((p) => p[0]!.track === 1)).toBe(true);
    const audio = parts.flatMap((p) => p.filter((x) => x.track === 2));
    expect(audio.length).toBeGreaterThan(5);
    // The first sound is AUDIO_START ms after the first picture (decode time 0), to the sample.
    expect(audio[0]!.base).toBe(AUDIO_START * 48);
    // One after the other: each run begins where the one before ended.
    for (let i = 1; i < audio.length; i++) {
      const prev = audio[i - 1]!;
      expect(audio[i]!.base).toBe(prev.base + prev.durations.reduce((a, b) => a + b, 0));
    }
    // No packet twice, none beyond the pictures written.
    const taken = audio.reduce((n, a) => n + a.durations.length, 0);
    expect(taken).toBeLessThanOrEqual(packets);
    const lastVideo = parts.flatMap((p) => p.filter((x) => x.track === 1)).at(-1)!;
    const videoEnd = lastVideo.base + lastVideo.durations.reduce((a, b) => a + b, 0);
    const last = audio.at(-1)!;
    expect(last.base + (last.durations.length - 1) * 960).toBeLessThan((videoEnd * 48) / 90);
    expect(new TextDecoder("latin1").decode(s.inits.get(s.initId)!)).toContain("dOps");
  });

  test("without sound: one track, and pushAudio does nothing", () => {
    const aus = encode(20);
    const s = new Segmenter(SETTINGS);
    aus.forEach((au, i) => {
      s.pushAudio({ payload: new Uint8Array([0xf8]), timestamp: i * 4800, samples: 960 });
      s.push({ ...au, timestamp: i * 9000 });
    });
    const parts = s.segments.flatMap((x) => x.parts).map((p) => trafs(p.bytes));
    expect(parts.length).toBeGreaterThan(0);
    expect(parts.every((p) => p.length === 1 && p[0]!.track === 1)).toBe(true);
    expect(new TextDecoder("latin1").decode(s.inits.get(s.initId)!)).not.toContain("Opus");
  });
});

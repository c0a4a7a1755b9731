/**
 * The HLS segmenter on real H.264 (ffmpeg's libx264, the feed's settings),
 * with the feed's 90 kHz timestamps made here: segments start at keyframes,
 * memory stays bounded however long it runs, a long GOP is cut at the
 * target duration, new parameter sets make a new init segment and a
 * discontinuity, and the playlist keeps the rules throughout.
 */
import { describe, expect, test } from "bun:test";
import { renderPlaylist } from "../src/outputs/hls/playlist.ts";
import { Segmenter, type SegmenterSettings } from "../src/outputs/hls/segmenter.ts";
import type { TimedAccessUnit } from "../src/encoders/h264-ffmpeg.ts";
import { AnnexBParser } from "../src/media/h264/annexb.ts";
import { parsePlaylist, playlistProblems } from "./helpers/hls.ts";

function encode(size: string, frames: number, keyint: number): TimedAccessUnit[] {
  const r = Bun.spawnSync([
    "ffmpeg",
    "-hide_banner",
    "-loglevel",
    "error",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${size}:rate=10`,
    "-frames:v",
    String(frames),
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-tune",
    "zerolatency",
    "-profile:v",
    "baseline",
    "-x264-params",
    "repeat-headers=1:aud=1",
    "-bf",
    "0",
    "-g",
    String(keyint),
    "-keyint_min",
    String(keyint),
    "-sc_threshold",
    "0",
    "-f",
    "h264",
    "pipe:1",
  ]);
  expect(r.exitCode).toBe(0);
  const parser = new AnnexBParser();
  return [...parser.push(new Uint8Array(r.stdout)), ...parser.flush()].map((au) => ({ ...au, timestamp: 0 }));
}

/** 10 fps timestamps from `start` (90 kHz), with the 32-bit wrap the feed's clock has. */
function timed(aus: TimedAccessUnit[], start = 0): TimedAccessUnit[] {
  return aus.map((au, i) => ({ ...au, timestamp: (start + i * 9000) >>> 0 }));
}

const SETTINGS: SegmenterSettings = { partTargetS: 0.23, framesPerPart: 2, maxSegmentS: 2, keepSegments: 6, keepPartSegments: 3 };
const render = (s: Segmenter) => parsePlaylist(renderPlaylist(s, { session: "t", partTargetS: SETTINGS.partTargetS, targetDurationS: 2, query: "" }));

describe("the segmenter", () => {
  test("segments start at keyframes, one per keyframe interval; parts of two pictures; bounded memory", () => {
    const s = new Segmenter(SETTINGS);
    // 40 s of pictures, across the 32-bit wrap of the clock.
    const aus = timed(encode("160x120", 400, 10), 2 ** 32 - 90_000 * 20);
    let maxSegments = 0;
    let maxPartSegments = 0;
    for (const au of aus) {
      s.push(au);
      maxSegments = Math.max(maxSegments, s.segments.length);
      maxPartSegments = Math.max(maxPartSegments, s.segments.filter((x) => x.parts.length > 0).length);
    }
    expect(maxSegments).toBe(6);
    expect(maxPartSegments).toBe(3);
    expect(s.segments.at(-1)!.msn).toBe(38); // 40 keyframes: 39 complete segments (the last picture waits for the next)
    for (const seg of s.segments) {
      expect(seg.duration).toBeCloseTo(1, 3);
      expect(seg.frames).toBe(10);
    }
    for (const seg of s.segments.slice(-3)) {
      expect(seg.parts.map((p) => p.frames)).toEqual([2, 2, 2, 2, 2]);
      expect(seg.parts.map((p) => p.independent)).toEqual([true, false, false, false, false]);
      expect(Buffer.concat(seg.parts.map((p) => p.bytes)).equals(Buffer.from(seg.bytes!))).toBe(true);
    }
    expect(playlistProblems(render(s))).toEqual([]);
  });

  test("a long GOP is cut at the target duration: the next segment's first part is not INDEPENDENT", () => {
    const s = new Segmenter(SETTINGS);
    for (const au of timed(encode("160x120", 120, 100))) s.push(au);
    const durations = s.segments.map((x) => x.duration);
    expect(Math.max(...durations)).toBeLessThanOrEqual(2);
    const p = render(s);
    expect(p.segments.some((x) => x.parts.length > 0 && !x.parts[0]!.independent)).toBe(true);
    // Every rule but the one the cut breaks on purpose.
    expect(playlistProblems(p).filter((x) => !x.includes("INDEPENDENT"))).toEqual([]);
    for (const seg of p.segments) expect(Math.round(seg.duration)).toBeLessThanOrEqual(p.targetDuration);
  });

  test("a late picture never makes a part longer than PART-TARGET", () => {
    const s = new Segmenter(SETTINGS);
    const aus = encode("160x120", 100, 10);
    let t = 0;
    for (const [i, au] of aus.entries()) {
      t += i % 7 === 3 ? 40_000 : i % 5 === 0 ? 3000 : 9000; // stalls of 0.44 s, bursts of 33 ms
      s.push({ ...au, timestamp: t >>> 0 });
    }
    expect(playlistProblems(render(s))).toEqual([]);
  });

  test("new parameter sets (another size): a new init segment and a discontinuity", () => {
    const s = new Segmenter(SETTINGS);
    const small = encode("160x120", 30, 10);
    const large = encode("320x240", 30, 10);
    for (const au of timed([...small, ...large])) s.push(au);
    expect([...s.inits.keys()]).toEqual([1, 2]);
    const text = renderPlaylist(s, { session: "t", partTargetS: 0.23, targetDurationS: 2, query: "" });
    expect(text.match(/#EXT-X-DISCONTINUITY\n/g)?.length).toBe(1);
    expect(text).toContain('#EXT-X-MAP:URI="t.init1.mp4"');
    expect(text).toContain('#EXT-X-MAP:URI="t.init2.mp4"');
    // Once the small pictures' segments left the list, their init segment goes too.
    for (const au of timed(encode("320x240", 100, 10), 60 * 9000)) s.push(au);
    expect([...s.inits.keys()]).toEqual([2]);
    expect(s.discontinuitySequence).toBe(1);
    expect(renderPlaylist(s, { session: "t", partTargetS: 0.23, targetDurationS: 2, query: "" })).toContain("#EXT-X-DISCONTINUITY-SEQUENCE:1");
  });

  test("Apple's rules for a live playlist: the date of each segment (the clock at the first, then the media timeline), the discontinuity sequence from the start, independent segments", () => {
    let clock = Date.parse("2026-12-07T22:00:00.000Z");
    const s = new Segmenter({ ...SETTINGS, now: () => clock });
    const small = encode("160x120", 30, 10);
    for (const au of timed(small)) {
      s.push(au);
      clock += 100;
    }
    let text = renderPlaylist(s, { session: "t", partTargetS: 0.23, targetDurationS: 2, query: "" });
    expect(text).toContain("#EXT-X-DISCONTINUITY-SEQUENCE:0");
    expect(text.split("\n").slice(0, 3)).toEqual(["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]);
    const p = parsePlaylist(text);
    expect(p.segments.map((x) => new Date(x.programDateTime!).toISOString())).toEqual(["2026-12-07T22:00:00.000Z", "2026-12-07T22:00:01.000Z"]);
    expect(p.partHoldBack).toBeCloseTo(3 * p.partTarget!, 9);
    expect(playlistProblems(p)).toEqual([]);
    // A discontinuity (new parameter sets) after a pause of the clock: its date is the clock again, not the timeline.
    clock += 60_000;
    for (const au of timed(encode("320x240", 30, 10), 30 * 9000)) {
      s.push(au);
      clock += 100;
    }
    text = renderPlaylist(s, { session: "t", partTargetS: 0.23, targetDurationS: 2, query: "" });
    const after = parsePlaylist(text);
    const dates = after.segments.map((x) => x.programDateTime! - Date.parse("2026-12-07T22:00:00.000Z"));
    expect(dates).toEqual([0, 1000, 2000, 63_000, 64_000]);
    expect(text).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="t.init2.mp4"\n#EXT-X-PROGRAM-DATE-TIME:2026-12-07T22:01:03.000Z\n/);
    expect(playlistProblems(after)).toEqual([]);
  });

  test("a segment that does not start with a keyframe (a long GOP cut) takes EXT-X-INDEPENDENT-SEGMENTS away", () => {
    const s = new Segmenter(SETTINGS);
    for (const au of timed(encode("160x120", 120, 100))) s.push(au);
    expect(renderPlaylist(s, { session: "t", partTargetS: 0.23, targetDurationS: 2, query: "" })).not.toContain("#EXT-X-INDEPENDENT-SEGMENTS");
  });
});

/**
 * The capture command line each option produces. Every option must reach
 * ffmpeg: these are the arguments a user can also see with --log-level debug.
 */
import { describe, expect, test } from "bun:test";
import { defaultJpegSettings } from "../src/encoders/jpeg-settings.ts";
import { captureArgs, filterChain, mjpegQscale, type CaptureSettings } from "../src/sources/ffmpeg/args.ts";
import type { SourceSpec } from "../src/sources/source-spec.ts";

const base: CaptureSettings = {
  width: null,
  height: null,
  fps: null,
  loop: false,
  frameSizeReduction: 0,
  rotate: 0,
  hflip: false,
  vflip: false,
  stabilize: false,
  jpeg: defaultJpegSettings,
};
const testsrc: SourceSpec = { kind: "testsrc" };
const file: SourceSpec = { kind: "file", path: "clip.mp4" };
const args = (spec: SourceSpec, s: Partial<CaptureSettings> = {}) => captureArgs("ffmpeg", spec, { ...base, ...s }, "y4m");
const after = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];

describe("inputs", () => {
  test("testsrc: the moving pattern with a clock, 1280x720 at 30 fps, paced in real time", () => {
    const a = args(testsrc);
    expect(a.slice(0, 1)).toEqual(["ffmpeg"]);
    expect(a).toContain("-re");
    expect(after(a, "-f")).toBe("lavfi");
    expect(after(a, "-i")).toBe("testsrc2=size=1280x720:rate=30");
    expect(after(args(testsrc, { width: 640, height: 360, fps: 15 }), "-i")).toBe("testsrc2=size=640x360:rate=15");
  });

  test("a file is paced in real time (-re) and loops only with --loop", () => {
    expect(args(file)).toEqual(expect.arrayContaining(["-re", "-i", "clip.mp4"]));
    expect(args(file)).not.toContain("-stream_loop");
    const looped = args(file, { loop: true });
    expect(after(looped, "-stream_loop")).toBe("-1");
    expect(looped.indexOf("-stream_loop")).toBeLessThan(looped.indexOf("-i"));
  });

  test("an image sequence is a glob read at --fps (30 by default), looping with --loop", () => {
    const a = args({ kind: "glob", pattern: "shots/*.jpg" }, { fps: 2, loop: true });
    expect(a).toEqual(expect.arrayContaining(["-pattern_type", "glob", "-i", "shots/*.jpg", "-loop", "1"]));
    expect(after(a, "-framerate")).toBe("2");
    expect(after(args({ kind: "glob", pattern: "s/*.png" }), "-framerate")).toBe("30");
  });

  test("network streams: RTSP over TCP with a socket timeout; not paced (a camera paces itself)", () => {
    const rtsp = args({ kind: "url", url: "rtsp://cam/1", scheme: "rtsp" });
    expect(after(rtsp, "-rtsp_transport")).toBe("tcp");
    expect(after(rtsp, "-timeout")).toBe("10000000");
    expect(rtsp).not.toContain("-re");
    const rtmp = args({ kind: "url", url: "rtmp://cam/live", scheme: "rtmp" });
    expect(after(rtmp, "-rw_timeout")).toBe("10000000");
    const hls = args({ kind: "url", url: "https://host/live.m3u8", scheme: "https" });
    expect(hls).toContain("-re");
  });

  test("no shell: the source is one argument, however it is spelled", () => {
    const a = args({ kind: "file", path: "my clip; rm -rf ~.mp4" });
    expect(a).toContain("my clip; rm -rf ~.mp4");
  });
});

describe("the filter chain", () => {
  test("always converts to full-range YCbCr in the layout of --jpeg-subsampling", () => {
    expect(filterChain(file, base, "y4m")).toBe("scale=out_range=full:out_color_matrix=bt601:flags=bicubic,format=yuv420p");
    for (const [sub, fmt] of [
      ["422", "yuv422p"],
      ["444", "yuv444p"],
      ["gray", "gray"],
    ] as const) {
      expect(filterChain(file, { ...base, jpeg: { ...defaultJpegSettings, subsampling: sub } }, "y4m")).toEndWith(`format=${fmt}`);
    }
  });

  test("--jpeg-fast-upsample picks the fastest chroma resampling", () => {
    const fast = { ...base, jpeg: { ...defaultJpegSettings, fastUpsample: true } };
    expect(filterChain(file, fast, "y4m")).toContain("flags=fast_bilinear");
  });

  test("--fps limits a file or stream; testsrc is generated at that rate instead", () => {
    expect(filterChain(file, { ...base, fps: 10 }, "y4m")).toStartWith("fps=10,");
    expect(filterChain(testsrc, { ...base, fps: 10 }, "y4m")).not.toContain("fps=");
  });

  test("--width/--height scale (one of them keeps the aspect ratio); sizes stay even", () => {
    expect(filterChain(file, { ...base, width: 640, height: 360 }, "y4m")).toContain(
      "scale=w=max(2\\,trunc(640*1/2)*2):h=max(2\\,trunc(360*1/2)*2):out_range=full",
    );
    expect(filterChain(file, { ...base, width: 640 }, "y4m")).toContain(":h=-2:");
    expect(filterChain(file, { ...base, height: 360 }, "y4m")).toContain("scale=w=-2:");
  });

  test("--frame-size-reduction shrinks by a percentage, also the test pattern", () => {
    expect(filterChain(file, { ...base, frameSizeReduction: 25 }, "y4m")).toContain("trunc(iw*0.75/2)*2");
    expect(filterChain(testsrc, { ...base, frameSizeReduction: 90 }, "y4m")).toContain("trunc(iw*0.1/2)*2");
  });
});

describe("outputs", () => {
  test("raw pictures go out as YUV4MPEG2", () => {
    expect(args(testsrc).slice(-5)).toEqual(["-f", "yuv4mpegpipe", "-strict", "-1", "pipe:1"]);
  });

  test("without libjpeg-turbo, ffmpeg writes JPEGs with the asked quality, DCT and subsampling", () => {
    const jpeg = { ...defaultJpegSettings, quality: 50, subsampling: "444" as const };
    const a = captureArgs("ffmpeg", file, { ...base, jpeg }, "mjpeg");
    expect(a).toEqual(expect.arrayContaining(["-c:v", "mjpeg", "-q:v", "8", "-dct", "fastint", "-f", "mjpeg"]));
    expect(after(a, "-vf")).toEndWith("format=yuvj444p");
  });

  test("the quality maps onto ffmpeg's quantiser monotonically, 2 (best) to 31", () => {
    const q = [10, 30, 50, 70, 90, 100].map(mjpegQscale);
    expect(q[0]).toBe(31);
    expect(q.at(-1)).toBe(2);
    for (let i = 1; i < q.length; i++) expect(q[i]!).toBeLessThanOrEqual(q[i - 1]!);
  });
});

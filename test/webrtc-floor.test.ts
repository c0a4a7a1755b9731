/**
 * webrtc-peers' floors (scripts/bench/lib/webrtc-floor.ts) and its options:
 * the ffmpeg-alone command is glasscast's capture and encoder commands made
 * one, and real ffmpeg runs it; the bare UDP send sends what it is asked.
 */
import { describe, expect, test } from "bun:test";
import { parseArgs } from "../scripts/bench/lib/webrtc-args.ts";
import { floorCommand, measureProcess, measureSendFloor } from "../scripts/bench/lib/webrtc-floor.ts";
import { feederCommand } from "../scripts/bench/lib/webrtc-janus.ts";

// As glasscast runs them for --source testsrc at 1280x720, 30 fps (read from /proc).
const CAPTURE = [
  "ffmpeg",
  ...["-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30"],
  ...["-an", "-sn", "-dn", "-vf", "scale=out_range=full:out_color_matrix=bt601:flags=bicubic,format=yuv420p", "-f", "yuv4mpegpipe", "-strict", "-1", "-y"],
  "/tmp/glasscast-fifo-1/capture",
];
const ENCODER = [
  "ffmpeg",
  ...["-hide_banner", "-nostats", "-loglevel", "warning", "-probesize", "32", "-analyzeduration", "0", "-fflags", "nobuffer"],
  ...["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", "320x240", "-framerate", "30", "-i", "pipe:0"],
  ...["-pix_fmt", "yuv420p", "-color_range", "pc", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-profile:v", "baseline"],
  ...["-x264-params", "repeat-headers=1:aud=1", "-bf", "0", "-g", "30", "-b:v", "2500k", "-an"],
  ...["-f", "flv", "-flvflags", "no_duration_filesize", "-flush_packets", "1", "pipe:1"],
];

describe("floorCommand", () => {
  test("keeps the capture's input and filters and the encoder's settings, and writes to -f null", () => {
    const argv = floorCommand(CAPTURE, ENCODER);
    expect(argv.slice(0, 11)).toEqual(CAPTURE.slice(0, 11));
    expect(argv.slice(-3)).toEqual(["-f", "null", "-"]);
    const joined = argv.join(" ");
    expect(joined).toContain("-vf scale=out_range=full:out_color_matrix=bt601:flags=bicubic,format=yuv420p");
    expect(joined).toContain("-c:v libx264 -preset ultrafast -tune zerolatency -profile:v baseline -x264-params repeat-headers=1:aud=1");
    expect(joined).toContain("-b:v 2500k");
    for (const gone of ["pipe:0", "pipe:1", "yuv4mpegpipe", "flv", "-flush_packets", "-strict", "-y", "rawvideo", "/tmp/glasscast-fifo-1/capture"]) {
      expect(argv).not.toContain(gone);
    }
  });

  test("joins the encoder's filter after the capture's", () => {
    const encoder = [...ENCODER.slice(0, -1)];
    encoder.splice(encoder.indexOf("pipe:0") + 1, 0, "-vf", "scale=flags=fast_bilinear");
    const argv = floorCommand(CAPTURE, [...encoder, "pipe:1"]);
    expect(argv.filter((a) => a === "-vf")).toHaveLength(1);
    expect(argv[argv.indexOf("-vf") + 1]).toEndWith("format=yuv420p,scale=flags=fast_bilinear");
  });

  test("a command without -i is an error that says which", () => {
    expect(() => floorCommand(["ffmpeg", "-y", "out"], ENCODER)).toThrow(/capture command has no -i/);
  });

  test("real ffmpeg runs it: it encodes at the capture's rate and its CPU is measured", async () => {
    const figures = await measureProcess(floorCommand(CAPTURE, ENCODER), 1, 2);
    expect(figures.error).toBeNull();
    expect(figures.cpuPct).toBeGreaterThan(0);
    // -re paces the capture: never faster than 30 frames/s (a loaded machine may make it slower).
    expect(figures.fps).not.toBeNull();
    expect(figures.fps!).toBeGreaterThan(0);
    expect(figures.fps!).toBeLessThan(36);
  }, 20_000);
});

describe("the Janus feeder", () => {
  test("is the ffmpeg-alone command sending RTP to Janus's port", () => {
    const floor = floorCommand(CAPTURE, ENCODER);
    const feeder = feederCommand(floor, 15004);
    expect(feeder.slice(0, -5)).toEqual(floor.slice(0, -3));
    expect(feeder.slice(-5)).toEqual(["-f", "rtp", "-payload_type", "96", "rtp://127.0.0.1:15004?pkt_size=1200"]);
    expect(() => feederCommand(CAPTURE, 15004)).toThrow(/does not end in -f null -/);
  });
});

describe("the bare UDP send", () => {
  test("sends the asked packets and reports µs per packet", async () => {
    const r = await measureSendFloor(3000, 1200, 30, 1);
    expect(r.error).toBeNull();
    expect(r.cpuPct).toBeGreaterThan(0);
    expect(r.usPerPacket).toBeCloseTo((r.cpuPct * 1e4) / 3000, 6);
  }, 20_000);
});

describe("webrtc-peers options", () => {
  test("--receiver takes werift or aiortc, and names itself when wrong", () => {
    expect(parseArgs([]).receiver).toBe("werift");
    expect(parseArgs(["--receiver", "aiortc"]).receiver).toBe("aiortc");
    expect(parseArgs(["--receiver=aiortc", "--no-floor"])).toMatchObject({ receiver: "aiortc", floor: false, clients: null });
    expect(() => parseArgs(["--receiver", "chrome"])).toThrow(/--receiver: "chrome" is not allowed; give werift or aiortc/);
    expect(() => parseArgs(["--receiver"])).toThrow(/--receiver/);
  });

  test("--janus needs the aiortc receivers and the floors", () => {
    expect(parseArgs(["--janus", "--receiver", "aiortc"]).janus).toBe(true);
    expect(() => parseArgs(["--janus"])).toThrow(/--janus: .*add --receiver aiortc/);
    expect(() => parseArgs(["--janus", "--receiver", "aiortc", "--no-floor"])).toThrow(/--janus: .*leave out --no-floor/);
  });
});

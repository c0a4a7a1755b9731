/**
 * The fake camera programs (test/fakes/ffmpeg and test/fakes/rpicam-vid) that
 * the tests and benchmarks point glasscast at instead of a V4L2 webcam and a
 * Raspberry Pi camera. Run directly here, not through glasscast: they must
 * take the real tools' arguments, write the real tools' bytes (whole JPEGs,
 * raw pictures, Annex B H.264 that loops seamlessly), and fail as the real
 * tools do when the camera is missing, frozen or asked for a format it lacks.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { JpegSplitter } from "../src/media/jpeg-splitter.ts";
import { AnnexBParser, hasParameterSets, NAL, nalType, parseSpsSize, type AccessUnit } from "../src/media/h264/annexb.ts";
import { parseY4mHeader } from "../src/media/y4m-reader.ts";
import { tempDir } from "./helpers/ffmpeg.ts";

setDefaultTimeout(20_000);

const FFMPEG = join(import.meta.dir, "fakes", "ffmpeg");
const RPICAM = join(import.meta.dir, "fakes", "rpicam-vid");

let dir = "";
let recordings = "";
let logCount = 0;
beforeAll(() => {
  dir = tempDir("glasscast-fakes-");
  recordings = join(dir, "recordings");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Proc = Subprocess<"ignore", "pipe", "pipe">;
const running = new Set<Proc>();
afterEach(async () => {
  for (const p of running) {
    p.kill("SIGKILL");
    await p.exited;
  }
  running.clear();
});

/** A fresh path for FAKE_ARGS_LOG. */
function newLog(): string {
  return join(dir, `args-${++logCount}.log`);
}

function loggedArgs(log: string): string[][] {
  return readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as string[]);
}

function start(cmd: string[], env: Record<string, string> = {}): Proc {
  const p = Bun.spawn(cmd, {
    env: { ...process.env, FAKE_CAMERA_DIR: recordings, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(p);
  return p;
}

/** Runs a fake to its end (killed after `ms`). */
async function run(cmd: string[], env: Record<string, string> = {}, ms = 15_000): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const p = start(cmd, env);
  const timer = setTimeout(() => p.kill("SIGKILL"), ms);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).bytes(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/**
 * Feeds the process's stdout to `take` until it returns true. Fails if the
 * output ends first or `ms` pass (the process is killed then).
 */
async function readUntil(p: Proc, take: (chunk: Uint8Array) => boolean, ms = 15_000): Promise<void> {
  const reader = p.stdout.getReader();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill("SIGKILL");
  }, ms);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        const why = timedOut ? `nothing more after ${ms} ms` : `exit ${await p.exited}`;
        throw new Error(`output ended early (${why}): ${await new Response(p.stderr).text()}`);
      }
      if (take(value)) return;
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}

/** Collects `count` JPEGs from the process's stdout. */
async function readJpegs(p: Proc, count: number): Promise<Uint8Array[]> {
  const splitter = new JpegSplitter();
  const out: Uint8Array[] = [];
  await readUntil(p, (chunk) => {
    out.push(...splitter.push(chunk));
    return out.length >= count;
  });
  expect(splitter.discarded).toBe(0);
  return out.slice(0, count);
}

/** Collects `count` H.264 access units from the process's stdout. */
async function readAccessUnits(p: Proc, count: number): Promise<AccessUnit[]> {
  const parser = new AnnexBParser();
  const out: AccessUnit[] = [];
  await readUntil(p, (chunk) => {
    out.push(...parser.push(chunk));
    return out.length >= count;
  });
  expect(parser.discarded).toBe(0);
  return out.slice(0, count);
}

/** Collects exactly `bytes` bytes of the process's stdout. */
async function readBytes(p: Proc, bytes: number): Promise<Uint8Array> {
  const out = new Uint8Array(bytes);
  let at = 0;
  await readUntil(p, (chunk) => {
    const n = Math.min(chunk.length, bytes - at);
    out.set(chunk.subarray(0, n), at);
    at += n;
    return at === bytes;
  });
  return out;
}

function splitJpegs(bytes: Uint8Array): Uint8Array[] {
  return new JpegSplitter().push(bytes);
}

function splitAccessUnits(bytes: Uint8Array): AccessUnit[] {
  const parser = new AnnexBParser();
  return [...parser.push(bytes), ...parser.flush()];
}

/** Width, height and chroma subsampling ("422", "420"…) from a JPEG's frame header (SOF0). */
function jpegFrame(jpeg: Uint8Array): { width: number; height: number; subsampling: string } {
  let i = 2;
  while (i + 4 < jpeg.length && jpeg[i] === 0xff) {
    const marker = jpeg[i + 1]!;
    const length = (jpeg[i + 2]! << 8) | jpeg[i + 3]!;
    if (marker === 0xc0) {
      const luma = jpeg[i + 11]!;
      const chroma = jpeg[i + 14]!;
      const across = (luma >> 4) / (chroma >> 4);
      const down = (luma & 15) / (chroma & 15);
      const subsampling = across === 2 && down === 1 ? "422" : across === 2 && down === 2 ? "420" : `${across}:${down}`;
      return { height: (jpeg[i + 5]! << 8) | jpeg[i + 6]!, width: (jpeg[i + 7]! << 8) | jpeg[i + 8]!, subsampling };
    }
    i += 2 + length;
  }
  throw new Error("no SOF0 in the JPEG");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function sameAccessUnit(a: AccessUnit, b: AccessUnit): boolean {
  return a.keyframe === b.keyframe && a.nals.length === b.nals.length && a.nals.every((n, i) => sameBytes(n, b.nals[i]!));
}

function spsSize(au: AccessUnit): { width: number; height: number } | null {
  const sps = au.nals.find((n) => nalType(n) === NAL.SPS);
  return sps ? parseSpsSize(sps) : null;
}

function stateFile(content: string): string {
  const path = join(dir, `state-${++logCount}`);
  writeFileSync(path, content);
  return path;
}

const V4L2_MJPEG_320 = ["-f", "v4l2", "-input_format", "mjpeg", "-video_size", "320x240", "-framerate", "30", "-i", "/dev/video7"];
const QUIET = ["-hide_banner", "-nostdin", "-loglevel", "warning"];
const CTX = "[video4linux2,v4l2 @ 0x55d7f3a1c2c0]";

describe("fake ffmpeg (V4L2 camera)", () => {
  test("MJPEG copied out: the recording's whole JPEGs, in order, looping seamlessly, at about the frame rate", async () => {
    const log = newLog();
    const args = [...QUIET, ...V4L2_MJPEG_320, "-c:v", "copy", "-f", "mjpeg", "pipe:1"];
    const p = start([FFMPEG, ...args], { FAKE_ARGS_LOG: log });
    // 70 frames: past the end of the 2 s recording, so the loop's seam is checked too.
    const splitter = new JpegSplitter();
    const frames: Uint8Array[] = [];
    let firstAt = 0;
    await readUntil(p, (chunk) => {
      frames.push(...splitter.push(chunk));
      if (firstAt === 0 && frames.length > 0) firstAt = performance.now();
      return frames.length >= 70;
    });
    const elapsed = performance.now() - firstAt;
    const recording = splitJpegs(readFileSync(join(recordings, "mjpeg-320x240-30.mjpeg")));
    expect(recording.length).toBe(60); // 2 s at 30 fps
    frames.forEach((jpeg, k) => {
      if (!sameBytes(jpeg, recording[k % recording.length]!)) throw new Error(`frame ${k} differs from the recording`);
    });
    expect(sameBytes(recording[0]!, recording[1]!)).toBe(false); // a moving picture
    expect(jpegFrame(frames[0]!)).toEqual({ width: 320, height: 240, subsampling: "422" }); // 4:2:2 like a UVC webcam
    // Paced like a camera (70 frames take ~2.3 s at 30 fps), not dumped as fast as possible.
    expect(elapsed).toBeGreaterThan(1500);
    expect(loggedArgs(log)).toEqual([args]);
  });

  test("YUYV decoded to y4m: 320x240 pictures at 30 fps, each one different", async () => {
    const args = [
      ...QUIET,
      "-f",
      "v4l2",
      "-input_format",
      "yuyv422",
      "-video_size",
      "320x240",
      "-framerate",
      "30",
      "-i",
      "/dev/video7",
      "-an",
      "-f",
      "yuv4mpegpipe",
      "-pix_fmt",
      "yuv420p",
      "pipe:1",
    ];
    const p = start([FFMPEG, ...args]);
    const frameBytes = (320 * 240 * 3) / 2;
    // The header line (under 100 bytes) and three pictures.
    const all = Buffer.from(await readBytes(p, 4 * (6 + frameBytes)));
    const headerLine = all.subarray(0, all.indexOf(0x0a)).toString();
    expect(parseY4mHeader(headerLine)).toMatchObject({ width: 320, height: 240, fps: 30, format: "i420" });
    const frames: Uint8Array[] = [];
    for (let at = headerLine.length + 1; frames.length < 3; at += 6 + frameBytes) {
      expect(all.subarray(at, at + 6).toString()).toBe("FRAME\n");
      frames.push(all.subarray(at + 6, at + 6 + frameBytes));
    }
    expect(frames.length).toBe(3);
    expect(sameBytes(frames[0]!, frames[1]!)).toBe(false);
    expect(sameBytes(frames[1]!, frames[2]!)).toBe(false);
  });

  test("H.264 copied out: Annex B that starts at a keyframe with SPS/PPS, one a second, looping at a keyframe", async () => {
    const args = [
      ...QUIET,
      "-f",
      "v4l2",
      "-input_format",
      "h264",
      "-video_size",
      "320x240",
      "-framerate",
      "30",
      "-i",
      "/dev/video7",
      "-c:v",
      "copy",
      "-f",
      "h264",
      "pipe:1",
    ];
    const p = start([FFMPEG, ...args], { FAKE_CAMERA_FORMATS: "h264" });
    const aus = await readAccessUnits(p, 65);
    const recording = splitAccessUnits(readFileSync(join(recordings, "h264-320x240-30.h264")));
    expect(recording.length).toBe(60);
    aus.forEach((au, k) => {
      if (!sameAccessUnit(au, recording[k % 60]!)) throw new Error(`access unit ${k} differs from the recording`);
      expect(au.keyframe).toBe(k % 30 === 0);
      if (au.keyframe) expect(hasParameterSets(au)).toBe(true);
    });
    expect(spsSize(aus[0]!)).toEqual({ width: 320, height: 240 });
  });

  test("without -input_format the camera gives raw YUYV, as ffmpeg's format table prefers it", async () => {
    const r = await run([
      FFMPEG,
      ...QUIET,
      "-f",
      "v4l2",
      "-video_size",
      "160x120",
      "-i",
      "/dev/video0",
      "-frames:v",
      "1",
      "-c:v",
      "copy",
      "-f",
      "rawvideo",
      "pipe:1",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(160 * 120 * 2);
  });

  test("-list_formats all prints the camera's formats on stderr and exits 1", async () => {
    const list = ["-hide_banner", "-f", "v4l2", "-list_formats", "all", "-i", "/dev/video0"];
    const standard = await run([FFMPEG, ...list]);
    expect(standard.code).toBe(1);
    expect(standard.stdout.length).toBe(0);
    expect(standard.stderr).toBe(
      `${CTX} Compressed:       mjpeg :          Motion-JPEG : 640x480 1280x720 320x240\n` +
        `${CTX} Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 1280x720 320x240\n` +
        "/dev/video0: Immediate exit requested\n",
    );

    const h264 = await run([FFMPEG, ...list], { FAKE_CAMERA_FORMATS: "h264,yuyv422" });
    expect(h264.stderr.split("\n").slice(0, 2)).toEqual([
      `${CTX} Compressed:        h264 :                H.264 : 640x480 1280x720 320x240`,
      `${CTX} Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 1280x720 320x240`,
    ]);

    // The list is logged at "info": -loglevel warning hides it, as it does with the real ffmpeg.
    const quiet = await run([FFMPEG, "-loglevel", "warning", ...list]);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toBe("/dev/video0: Immediate exit requested\n");
  });

  test("a codec the camera doesn't offer fails the way ffmpeg does", async () => {
    const r = await run([FFMPEG, ...QUIET, "-f", "v4l2", "-input_format", "h264", "-i", "/dev/video7", "-c:v", "copy", "-f", "h264", "pipe:1"], {
      FAKE_CAMERA_FORMATS: "mjpeg",
    });
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toBe(`${CTX} Cannot find a proper format for codec 'h264' (id 27), pixel format 'none' (id -1)\n` + "/dev/video7: Invalid argument\n");
  });

  test("an unplugged camera fails to open (capture and -list_formats); plugged in again, it streams", async () => {
    const state = stateFile("unplugged\n");
    const missing = `${CTX} Cannot open video device /dev/video7: No such file or directory\n` + "/dev/video7: No such file or directory\n";
    const capture = await run([FFMPEG, ...QUIET, ...V4L2_MJPEG_320, "-c:v", "copy", "-f", "mjpeg", "pipe:1"], { FAKE_CAMERA_STATE: state });
    expect(capture).toEqual({ code: 1, stdout: new Uint8Array(0), stderr: missing });
    const list = await run([FFMPEG, "-hide_banner", "-f", "v4l2", "-list_formats", "all", "-i", "/dev/video7"], { FAKE_CAMERA_STATE: state });
    expect(list).toEqual({ code: 1, stdout: new Uint8Array(0), stderr: missing });

    writeFileSync(state, "");
    const p = start([FFMPEG, ...QUIET, ...V4L2_MJPEG_320, "-c:v", "copy", "-f", "mjpeg", "pipe:1"], { FAKE_CAMERA_STATE: state });
    expect((await readJpegs(p, 2)).length).toBe(2);
  });

  test("a frozen camera opens, writes nothing and keeps running until killed", async () => {
    const p = start([FFMPEG, ...QUIET, ...V4L2_MJPEG_320, "-c:v", "copy", "-f", "mjpeg", "pipe:1"], { FAKE_CAMERA_STATE: stateFile("frozen") });
    const reader = p.stdout.getReader();
    const first = await Promise.race([reader.read().then(() => "output"), Bun.sleep(1000).then(() => "silence")]);
    expect(first).toBe("silence");
    expect(p.exitCode).toBeNull();
    reader.releaseLock();
  });

  test("anything but a V4L2 input goes to the real ffmpeg untouched", async () => {
    const log = newLog();
    const args = [
      "-hide_banner",
      "-loglevel",
      "error",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=64x48:rate=5",
      "-frames:v",
      "2",
      "-f",
      "rawvideo",
      "-pix_fmt",
      "gray",
      "pipe:1",
    ];
    const r = await run([FFMPEG, ...args], { FAKE_ARGS_LOG: log });
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(2 * 64 * 48);
    expect(loggedArgs(log)).toEqual([args]);
    expect((await run([FFMPEG, ...args.slice(0, -5), "-f", "null", "-"])).code).toBe(0);
  });
});

describe("fake rpicam-vid", () => {
  const common = ["-t", "0", "-n", "--camera", "0", "--width", "320", "--height", "240", "--framerate", "30"];

  test("--codec mjpeg: whole 4:2:0 JPEGs of the asked size, back to back", async () => {
    const log = newLog();
    const args = [...common, "--codec", "mjpeg", "--quality", "80", "--flush", "-o", "-"];
    const p = start([RPICAM, ...args], { FAKE_ARGS_LOG: log });
    const jpegs = await readJpegs(p, 5);
    expect(jpegFrame(jpegs[0]!)).toEqual({ width: 320, height: 240, subsampling: "420" });
    expect(sameBytes(jpegs[0]!, jpegs[1]!)).toBe(false);
    expect(loggedArgs(log)).toEqual([args]);
  });

  test("--codec yuv420: raw I420 pictures of exactly W×H×3/2 bytes", async () => {
    const frame = (320 * 240 * 3) / 2;
    const r = await run([RPICAM, ...common, "--codec", "yuv420", "--frames", "3", "-o", "-"]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(3 * frame);
    const recording = readFileSync(join(recordings, "rpicam-yuv420-320x240-30.i420"));
    expect(recording.length).toBe(30 * frame); // 1 s
    expect(sameBytes(r.stdout, recording.subarray(0, 3 * frame))).toBe(true);
    expect(sameBytes(r.stdout.subarray(0, frame), r.stdout.subarray(frame, 2 * frame))).toBe(false);
  });

  test("--codec h264 --inline: Annex B with SPS/PPS on every keyframe, a keyframe every --intra frames", async () => {
    const p = start([RPICAM, ...common, "--codec", "h264", "--inline", "--intra", "10", "--profile", "baseline", "--bitrate", "1000000", "--flush", "-o", "-"]);
    const aus = await readAccessUnits(p, 25);
    aus.forEach((au, k) => {
      expect(au.keyframe).toBe(k % 10 === 0);
      expect(hasParameterSets(au)).toBe(au.keyframe);
    });
    expect(spsSize(aus[0]!)).toEqual({ width: 320, height: 240 });
  });

  test("--codec h264 without --inline: SPS/PPS only once, before the first frame", async () => {
    const p = start([RPICAM, ...common, "--codec", "h264", "--intra", "10", "-o", "-"]);
    const aus = await readAccessUnits(p, 25);
    expect(aus[0]!.keyframe && hasParameterSets(aus[0]!)).toBe(true);
    aus.slice(1).forEach((au, k) => {
      expect(au.keyframe).toBe((k + 1) % 10 === 0);
      expect(hasParameterSets(au)).toBe(false);
    });
  });

  test("no camera, a frozen camera and an unknown codec behave like rpicam-vid", async () => {
    const unplugged = await run([RPICAM, ...common, "--codec", "mjpeg", "-o", "-"], { FAKE_CAMERA_STATE: stateFile("unplugged") });
    expect(unplugged.code).toBe(255);
    expect(unplugged.stdout.length).toBe(0);
    expect(unplugged.stderr).toEndWith("ERROR: *** no cameras available ***\n");

    const codec = await run([RPICAM, ...common, "--codec", "vp9", "-o", "-"]);
    expect(codec.code).toBe(255);
    expect(codec.stderr).toBe("ERROR: *** unrecognised codec vp9 ***\n");

    const frozen = start([RPICAM, ...common, "--codec", "mjpeg", "-o", "-"], { FAKE_CAMERA_STATE: stateFile("frozen") });
    const reader = frozen.stdout.getReader();
    const first = await Promise.race([reader.read().then(() => "output"), Bun.sleep(1000).then(() => "silence")]);
    expect(first).toBe("silence");
    expect(frozen.exitCode).toBeNull();
    reader.releaseLock();
  });
});

/**
 * The H.264 that glasscast encodes says its colour in every SPS (VUI: BT.709
 * primaries, sRGB transfer, BT.601 matrix, full range, h264-colour.ts), and
 * it IS that colour: flat patches of known RGB, made into the pictures a
 * stream holds (full-range BT.601, as for JPEG) in each input layout the
 * encoder takes, are encoded with the encoder's own command line and decoded
 * by ffmpeg, which follows the VUI, back to the same RGB. The NO SIGNAL
 * picture's greys come back as the greys its JPEG shows. The filter the
 * non-x264 encoders (h264_v4l2m2m) get writes the same VUI into a stream
 * that had none.
 *
 * Upstream of the encoder, the capture and the camera-H.264 decoder make
 * every picture JPEG's YCbCr even from a source that says it is BT.709
 * limited range (an HD file, a camera's H.264 with a VUI). A camera's own
 * H.264 reaches WebRTC viewers with its SPS as the camera wrote it, with no
 * VUI added (docs/colour.md says why).
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { h264DecoderArgs } from "../src/encoders/h264-decoder.ts";
import { defaultJpegSettings } from "../src/encoders/jpeg-settings.ts";
import { captureArgs, type CaptureSettings } from "../src/sources/ffmpeg/args.ts";
import { h264Args, type H264Input, type H264Settings } from "../src/encoders/h264-ffmpeg.ts";
import { H264_COLOUR } from "../src/encoders/h264-colour.ts";
import { renderPlaceholder } from "../src/placeholder/render.ts";
import { AnnexBParser, NAL, nalType } from "../src/media/h264/annexb.ts";
import { FAKE_FFMPEG, fakeCamera, recordingOf } from "./helpers/camera.ts";
import { ffmpeg, tempDir } from "./helpers/ffmpeg.ts";
import { withServer, waitFor } from "./helpers/server.ts";
import { connectViewer } from "./helpers/webrtc-client.ts";
import { PATCHES, PATCH_H, PATCH_W, PATCHES_HEIGHT, PATCHES_WIDTH, patchesRgb } from "./helpers/colour-patches.ts";

setDefaultTimeout(60_000);

const X264: H264Settings = { encoder: "libx264", bitrateKbps: 4000, keyint: 10 };
const FRAMES = 12;

function run(argv: string[], input: Uint8Array): { stdout: Uint8Array; stderr: string } {
  const r = Bun.spawnSync(argv, { stdin: input, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr.toString()}`);
  return { stdout: new Uint8Array(r.stdout), stderr: r.stderr.toString() };
}

/** `frames` copies of one picture. */
function repeat(picture: Uint8Array, frames = FRAMES): Uint8Array {
  const out = new Uint8Array(picture.length * frames);
  for (let i = 0; i < frames; i++) out.set(picture, i * picture.length);
  return out;
}

/** The encoder's own command line (h264Args) on `frames` copies of a picture. */
function encode(input: H264Input, picture: Uint8Array, settings = X264, frames = FRAMES): Uint8Array {
  return run(h264Args("ffmpeg", input, settings, 30), repeat(picture, frames)).stdout;
}

/** The VUI fields of every SPS, as ffmpeg's trace_headers reads them. */
function spsColour(stream: Uint8Array): { sps: number; fields: Record<string, number[]> } {
  const { stderr } = run(
    ["ffmpeg", "-hide_banner", "-loglevel", "trace", "-f", "h264", "-i", "pipe:0", "-c", "copy", "-bsf:v", "trace_headers", "-f", "null", "-"],
    stream,
  );
  const fields: Record<string, number[]> = {};
  let sps = 0;
  for (const line of stderr.split("\n")) {
    if (!line.includes("[trace_headers")) continue;
    if (/Sequence Parameter Set$/.test(line.trim())) sps++;
    const m = /\s(video_full_range_flag|colour_description_present_flag|colour_primaries|transfer_characteristics|matrix_coefficients)\s+[01]+ = (\d+)/.exec(
      line,
    );
    if (m) (fields[m[1]!] ??= []).push(Number(m[2]));
  }
  return { sps, fields };
}

/** The last decoded picture as RGB, converted by ffmpeg as the stream's VUI says. */
function decodeLastRgb(stream: Uint8Array, width: number, height: number): Uint8Array {
  const rgb = run(
    [
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "error",
      "-f",
      "h264",
      "-i",
      "pipe:0",
      "-vf",
      "scale=flags=accurate_rnd+full_chroma_int",
      "-pix_fmt",
      "rgb24",
      "-f",
      "rawvideo",
      "pipe:1",
    ],
    stream,
  ).stdout;
  const size = width * height * 3;
  expect(rgb.length).toBeGreaterThanOrEqual(size);
  return rgb.subarray(rgb.length - size);
}

/** Mean RGB of a 16x16 square centred at (cx, cy). */
function meanRgb(rgb: Uint8Array, width: number, cx: number, cy: number): [number, number, number] {
  const sum = [0, 0, 0];
  for (let y = cy - 8; y < cy + 8; y++) {
    for (let x = cx - 8; x < cx + 8; x++) for (let c = 0; c < 3; c++) sum[c]! += rgb[(y * width + x) * 3 + c]!;
  }
  return sum.map((v) => Math.round(v / 256)) as [number, number, number];
}

function maxChannelDiff(a: readonly number[], b: readonly number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
}

/** The patches as the stream would hold them: full-range BT.601 (JPEG's YCbCr) in a raw layout, a JPEG, or RGB. */
function streamPicture(input: H264Input): Uint8Array {
  const rgb = patchesRgb();
  if (input.kind === "raw" && input.format === "rgb") return rgb;
  if (input.kind === "raw" && input.format === "bgra") {
    const bgra = new Uint8Array((rgb.length / 3) * 4);
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) bgra.set([rgb[i + 2]!, rgb[i + 1]!, rgb[i]!, 255], j);
    return bgra;
  }
  const ycbcr = "scale=out_range=full:out_color_matrix=bt601:flags=accurate_rnd";
  const rawRgb = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${PATCHES_WIDTH}x${PATCHES_HEIGHT}`, "-i", "pipe:0"];
  const out =
    input.kind === "jpeg"
      ? ["-vf", `${ycbcr},format=yuvj420p`, "-c:v", "mjpeg", "-q:v", "2", "-f", "mjpeg"]
      : ["-vf", `${ycbcr},format=${{ i420: "yuv420p", i422: "yuv422p", i444: "yuv444p" }[input.format as "i420"]}`, "-f", "rawvideo"];
  return run(["ffmpeg", "-hide_banner", "-loglevel", "error", ...rawRgb, ...out, "pipe:1"], rgb).stdout;
}

const INPUTS: H264Input[] = [
  { kind: "raw", format: "i420", width: PATCHES_WIDTH, height: PATCHES_HEIGHT },
  { kind: "raw", format: "i422", width: PATCHES_WIDTH, height: PATCHES_HEIGHT },
  { kind: "raw", format: "i444", width: PATCHES_WIDTH, height: PATCHES_HEIGHT },
  { kind: "raw", format: "rgb", width: PATCHES_WIDTH, height: PATCHES_HEIGHT },
  { kind: "raw", format: "bgra", width: PATCHES_WIDTH, height: PATCHES_HEIGHT },
  { kind: "jpeg" },
];
const label = (i: H264Input) => (i.kind === "jpeg" ? "JPEG" : i.format);

// ffprobe's names for the description in H264_COLOUR.
const EXPECTED_PROBE = { color_range: "pc", color_space: "smpte170m", color_primaries: "bt709", color_transfer: "iec61966-2-1" };

describe("the encoder's SPS carries the colour description", () => {
  test("every SPS of libx264's output: full range, BT.709 primaries, sRGB transfer, BT.601 matrix; ffprobe agrees", () => {
    const input = INPUTS[0]!;
    const stream = encode(input, streamPicture(input));
    const { sps, fields } = spsColour(stream);
    expect(sps).toBeGreaterThanOrEqual(2); // keyint 10, 12 frames: two keyframes, each with its SPS
    expect(fields).toEqual({
      video_full_range_flag: Array(sps).fill(1),
      colour_description_present_flag: Array(sps).fill(1),
      colour_primaries: Array(sps).fill(H264_COLOUR.colourPrimaries),
      transfer_characteristics: Array(sps).fill(H264_COLOUR.transferCharacteristics),
      matrix_coefficients: Array(sps).fill(H264_COLOUR.matrixCoefficients),
    });
    const probe = run(
      ["ffprobe", "-v", "error", "-f", "h264", "-show_entries", "stream=color_range,color_space,color_primaries,color_transfer", "-of", "json", "pipe:0"],
      stream,
    );
    expect((JSON.parse(new TextDecoder().decode(probe.stdout)) as { streams: object[] }).streams[0]).toEqual(EXPECTED_PROBE);
  });

  test("the other encoders' bitstream filter (h264_v4l2m2m) writes the same VUI into an SPS that had none", () => {
    const argv = h264Args("ffmpeg", { kind: "jpeg" }, { encoder: "h264_v4l2m2m", bitrateKbps: 2000, keyint: 30 }, 30);
    const bsf = argv[argv.indexOf("-bsf:v") + 1]!;
    expect(bsf).toEndWith(",dump_extra=freq=keyframe");
    // A plain libx264 stream, as an encoder that knows nothing of colour writes it.
    const bare = ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=160x120:rate=30",
      "-frames:v",
      "40",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-g",
      "20",
      "-bf",
      "0",
      "-x264-params",
      "repeat-headers=1",
      "-f",
      "h264",
      "pipe:1",
    ]);
    expect(spsColour(bare).fields.colour_description_present_flag ?? []).toEqual([]);
    const fixed = run(
      ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "h264", "-i", "pipe:0", "-c", "copy", "-bsf:v", bsf, "-f", "h264", "pipe:1"],
      bare,
    ).stdout;
    const { sps, fields } = spsColour(fixed);
    expect(sps).toBeGreaterThanOrEqual(2);
    expect(fields.video_full_range_flag).toEqual(Array(sps).fill(1));
    expect(fields.colour_primaries).toEqual(Array(sps).fill(H264_COLOUR.colourPrimaries));
    expect(fields.transfer_characteristics).toEqual(Array(sps).fill(H264_COLOUR.transferCharacteristics));
    expect(fields.matrix_coefficients).toEqual(Array(sps).fill(H264_COLOUR.matrixCoefficients));
    // Only the SPS changed: the pictures decode exactly as before.
    const crc = (s: Uint8Array) => run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "h264", "-i", "pipe:0", "-f", "framecrc", "pipe:1"], s).stdout;
    expect(new TextDecoder().decode(crc(fixed))).toBe(new TextDecoder().decode(crc(bare)));
  });

  test("I420, the stream's usual pictures, reach the encoder untouched (no filter); other layouts only have their chroma resampled", () => {
    const argv = h264Args("ffmpeg", INPUTS[0]!, X264, 30);
    expect(argv).not.toContain("-vf");
    expect(argv.join(" ")).not.toContain("out_range=tv");
  });
});

describe("the colours decode to the RGB they were made from", () => {
  for (const input of INPUTS) {
    test(`${label(input)} pictures: every patch within 3 of its RGB`, () => {
      const stream = encode(input, streamPicture(input));
      const rgb = decodeLastRgb(stream, PATCHES_WIDTH, PATCHES_HEIGHT);
      const measured = PATCHES.map((p) => meanRgb(rgb, PATCHES_WIDTH, p.x + PATCH_W / 2, p.y + PATCH_H / 2));
      console.log(`${label(input)}: ${PATCHES.map((p, i) => `${p.name} ${p.rgb.join(",")} → ${measured[i]!.join(",")}`).join("; ")}`);
      PATCHES.forEach((p, i) => expect({ patch: p.name, diff: maxChannelDiff(measured[i]!, p.rgb) <= 3 }).toEqual({ patch: p.name, diff: true }));
    });
  }

  test("gray pictures: the grey patches come back as made", () => {
    const input: H264Input = { kind: "raw", format: "gray", width: PATCHES_WIDTH, height: PATCHES_HEIGHT };
    // The luma plane of the full-range I420 picture is the gray picture.
    const gray = streamPicture(INPUTS[0]!).subarray(0, PATCHES_WIDTH * PATCHES_HEIGHT);
    const rgb = decodeLastRgb(encode(input, gray), PATCHES_WIDTH, PATCHES_HEIGHT);
    for (const p of PATCHES.filter((p) => p.name.endsWith("grey"))) {
      expect({ patch: p.name, diff: maxChannelDiff(meanRgb(rgb, PATCHES_WIDTH, p.x + PATCH_W / 2, p.y + PATCH_H / 2), p.rgb) <= 2 }).toEqual({
        patch: p.name,
        diff: true,
      });
    }
  });

  test("NO SIGNAL: its background and text come back as the greys its JPEG shows (24 and 235)", () => {
    const [w, h] = [320, 240];
    const picture = renderPlaceholder("i420", w, h, ["NO SIGNAL"]);
    const stream = encode({ kind: "raw", format: "i420", width: w, height: h }, picture);
    expect(spsColour(stream).fields.video_full_range_flag?.[0]).toBe(1);
    const rgb = decodeLastRgb(stream, w, h);
    // A corner is background; the brightest pixel of the middle row is text.
    expect(maxChannelDiff(meanRgb(rgb, w, 16, 16), [24, 24, 24])).toBeLessThanOrEqual(2);
    let text = 0;
    for (let x = 0; x < w; x++) {
      for (let y = h / 2 - 20; y < h / 2 + 20; y++) text = Math.max(text, rgb[(y * w + x) * 3 + 1]!);
    }
    expect(Math.abs(text - 235)).toBeLessThanOrEqual(4);
  });
});

/** JFIF's YCbCr of an RGB colour: BT.601 matrix, full range. */
function jpegYcbcr([r, g, b]: readonly number[]): [number, number, number] {
  const clip = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  return [
    clip(0.299 * r! + 0.587 * g! + 0.114 * b!),
    clip(128 - 0.168736 * r! - 0.331264 * g! + 0.5 * b!),
    clip(128 + 0.5 * r! - 0.418688 * g! - 0.081312 * b!),
  ];
}

/** Y, Cb, Cr of the first 4:2:0 picture of a YUV4MPEG2 stream at each patch's centre. */
function y4mPatchYcbcr(y4m: Uint8Array, w: number, h: number): [number, number, number][] {
  const frame = new TextDecoder("latin1").decode(y4m.subarray(0, 200)).indexOf("FRAME\n");
  expect(frame).toBeGreaterThan(0);
  const data = y4m.subarray(frame + 6);
  const [cw, ch] = [w / 2, h / 2];
  return PATCHES.map((p) => {
    const [x, y] = [p.x + PATCH_W / 2, p.y + PATCH_H / 2];
    const c = (y / 2) * cw + x / 2;
    return [data[y * w + x]!, data[w * h + c]!, data[w * h + cw * ch + c]!];
  });
}

describe("upstream of the encoder, every picture is JPEG's YCbCr, whatever the source says it is", () => {
  // The patches as an HD camera or file gives them: BT.709 limited range, and said so (VUI).
  const dir = tempDir();
  const rgbPath = join(dir, "patches.rgb");
  writeFileSync(rgbPath, patchesRgb());
  const bt709 = (out: string[]) =>
    ffmpeg([
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgb24",
      "-s",
      `${PATCHES_WIDTH}x${PATCHES_HEIGHT}`,
      "-i",
      rgbPath,
      "-vf",
      "loop=loop=4:size=1,scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd,format=yuv420p",
      "-colorspace",
      "bt709",
      "-color_primaries",
      "bt709",
      "-color_trc",
      "bt709",
      "-color_range",
      "tv",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-qp",
      "0",
      ...out,
    ]);
  const expected = PATCHES.map((p) => jpegYcbcr(p.rgb));
  const check = (measured: [number, number, number][], what: string) => {
    console.log(`${what}: ${PATCHES.map((p, i) => `${p.name} ${expected[i]!.join(",")} → ${measured[i]!.join(",")}`).join("; ")}`);
    PATCHES.forEach((p, i) => expect({ patch: p.name, close: maxChannelDiff(measured[i]!, expected[i]!) <= 3 }).toEqual({ patch: p.name, close: true }));
  };

  test("the capture of a BT.709 file: full-range BT.601 YCbCr for libjpeg-turbo", () => {
    const clip = join(dir, "bt709.mp4");
    bt709(["-y", clip]);
    const settings: CaptureSettings = {
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
    const argv = captureArgs("ffmpeg", { kind: "file", path: clip }, settings, "y4m");
    check(y4mPatchYcbcr(run(argv, new Uint8Array()).stdout, PATCHES_WIDTH, PATCHES_HEIGHT), "capture");
  });

  test("a camera's BT.709 H.264 decoded for MJPEG viewers: full-range BT.601 YCbCr", () => {
    const annexB = bt709(["-f", "h264", "pipe:1"]);
    check(y4mPatchYcbcr(run(h264DecoderArgs("ffmpeg", "420"), annexB).stdout, PATCHES_WIDTH, PATCHES_HEIGHT), "decoder");
  });
});

test("a camera's own H.264 reaches a WebRTC viewer with its SPS byte for byte: no VUI is added to one that has none", async () => {
  const camera = fakeCamera("h264");
  await withServer(
    ["--ffmpeg", FAKE_FFMPEG, "--source", "/dev/video7", "--width", "320", "--height", "240", "--fps", "30"],
    async (server) => {
      const viewer = await connectViewer(server.url);
      try {
        await waitFor(() => viewer.received.sps !== null, 15_000, "an SPS at the WebRTC viewer");
        const recording = new Uint8Array(await Bun.file(recordingOf("h264", "320x240", "h264")).arrayBuffer());
        const parser = new AnnexBParser();
        const cameraSps = [...parser.push(recording), ...parser.flush()].flatMap((au) => au.nals).find((n) => nalType(n) === NAL.SPS)!;
        expect(spsColour(recording).fields.colour_description_present_flag ?? []).toEqual([]); // the camera says nothing
        expect(Buffer.from(viewer.received.sps!).toString("hex")).toBe(Buffer.from(cameraSps).toString("hex"));
      } finally {
        await viewer.close();
      }
    },
    camera.env,
  );
});

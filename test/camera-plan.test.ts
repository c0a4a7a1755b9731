/**
 * What a camera is asked for, and the command lines that ask it: the V4L2
 * input through ffmpeg, rpicam-vid for a Pi camera, and the choice of format
 * that costs least for the outputs in use.
 */
import { describe, expect, test } from "bun:test";
import { defaultJpegSettings } from "../src/encoders/jpeg-settings.ts";
import { planLibcamera, planV4l2, CameraPlanError } from "../src/sources/camera-plan.ts";
import { captureArgs, filterChain, type CaptureSettings } from "../src/sources/ffmpeg/args.ts";
import { boardOf } from "../src/sources/libcamera/board.ts";
import { libcameraSize, rpicamArgs } from "../src/sources/libcamera/rpicam-args.ts";
import { parseSourceSpec, SourceSpecError } from "../src/sources/source-spec.ts";
import { SourceError } from "../src/sources/source.ts";

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
const cam = { kind: "v4l2", device: "/dev/video0" } as const;
const plain = { filtered: false, webrtc: true };

describe("--source names a camera", () => {
  test("/dev/videoN, a bare index, udev's stable names", () => {
    expect(parseSourceSpec("/dev/video0")).toEqual({ kind: "v4l2", device: "/dev/video0" });
    expect(parseSourceSpec("2")).toEqual({ kind: "v4l2", device: "/dev/video2" });
    expect(parseSourceSpec("/dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920-video-index0")).toEqual({
      kind: "v4l2",
      device: "/dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920-video-index0",
    });
  });
  test("a camera that is not plugged in yet is accepted (it is waited for); a non-device is not", () => {
    expect(parseSourceSpec("/dev/video63").kind).toBe("v4l2");
    expect(() => parseSourceSpec("/dev/null")).not.toThrow(); // a character device, though not a camera: ffmpeg says so at run time
    expect(() => parseSourceSpec("999")).toThrow(SourceSpecError);
  });
  test("libcamera:N", () => {
    expect(parseSourceSpec("libcamera:0")).toEqual({ kind: "libcamera", camera: 0 });
    expect(parseSourceSpec("libcamera:1")).toEqual({ kind: "libcamera", camera: 1 });
    expect(() => parseSourceSpec("libcamera:x")).toThrow(/libcamera:N/);
    expect(() => parseSourceSpec("libcamera:")).toThrow(/libcamera:N/);
  });
});

describe("V4L2: auto picks what costs least", () => {
  const webcam = ["mjpeg", "yuyv422"];
  const h264cam = ["mjpeg", "yuyv422", "h264"];
  test("an MJPEG camera's JPEGs go to viewers untouched", () => {
    expect(planV4l2("auto", webcam, plain)).toEqual({ inputFormat: "mjpeg", delivery: "jpeg" });
  });
  test("with WebRTC on, a camera's own H.264 is preferred (no encoder); without, its MJPEG", () => {
    expect(planV4l2("auto", h264cam, plain)).toEqual({ inputFormat: "h264", delivery: "h264" });
    expect(planV4l2("auto", h264cam, { filtered: false, webrtc: false })).toEqual({ inputFormat: "mjpeg", delivery: "jpeg" });
  });
  test("a raw-only camera gives raw pictures; an H.264-only one its H.264", () => {
    expect(planV4l2("auto", ["yuyv422"], plain)).toEqual({ inputFormat: "yuyv422", delivery: "raw" });
    expect(planV4l2("auto", ["h264"], { filtered: false, webrtc: false })).toEqual({ inputFormat: "h264", delivery: "h264" });
  });
  test("when a filter must see the pictures (turn, mirror, deshake, smaller), they are decoded: MJPEG first for its rate", () => {
    expect(planV4l2("auto", h264cam, { filtered: true, webrtc: true })).toEqual({ inputFormat: "mjpeg", delivery: "raw" });
    expect(planV4l2("mjpeg", null, { filtered: true, webrtc: true })).toEqual({ inputFormat: "mjpeg", delivery: "raw" });
  });
  test("an asked format is taken as asked; one the camera lacks is a clear error", () => {
    expect(planV4l2("yuyv", null, plain)).toEqual({ inputFormat: "yuyv422", delivery: "raw" });
    expect(planV4l2("h264", null, plain)).toEqual({ inputFormat: "h264", delivery: "h264" });
    expect(() => planV4l2("h264", webcam, plain)).toThrow(SourceError);
    expect(() => planV4l2("h264", webcam, plain)).toThrow(/does not give h264.*mjpeg, yuyv422/);
  });
  test("a camera whose formats are unknown gets no -input_format", () => {
    expect(planV4l2("auto", [], plain)).toEqual({ inputFormat: null, delivery: "raw" });
  });
});

describe("V4L2 through ffmpeg's v4l2 demuxer", () => {
  test("size and rate are asked of the camera, not scaled or dropped afterwards", () => {
    const args = captureArgs("ffmpeg", cam, { ...base, width: 1280, height: 720, fps: 30 }, "y4m", "pipe:1", "mjpeg");
    const input = args.slice(args.indexOf("-f"), args.indexOf("-i") + 2);
    expect(input).toEqual(["-f", "v4l2", "-input_format", "mjpeg", "-video_size", "1280x720", "-framerate", "30", "-i", "/dev/video0"]);
    const vf = args[args.indexOf("-vf") + 1]!;
    expect(vf).not.toContain("fps=");
    expect(vf).not.toMatch(/scale=w=/);
  });
  test("passthrough copies the camera's JPEGs or H.264: no filter, no decode", () => {
    const jpeg = captureArgs("ffmpeg", cam, base, "copy-jpeg", "pipe:1", "mjpeg");
    expect(jpeg).not.toContain("-vf");
    expect(jpeg.join(" ")).toEndWith("-c:v copy -f mjpeg pipe:1");
    const h264 = captureArgs("ffmpeg", cam, base, "copy-h264", "pipe:1", "h264");
    expect(h264).not.toContain("-vf");
    expect(h264.join(" ")).toEndWith("-c:v copy -f h264 pipe:1");
  });
  test("--rotate, --hflip, --vflip and --stabilize are filters, mirrors before the turn", () => {
    expect(filterChain(cam, { ...base, rotate: 90 }, "y4m")).toStartWith("transpose=clock,");
    expect(filterChain(cam, { ...base, rotate: 270 }, "y4m")).toStartWith("transpose=cclock,");
    expect(filterChain(cam, { ...base, rotate: 180 }, "y4m")).toStartWith("hflip,vflip,");
    expect(filterChain(cam, { ...base, hflip: true, rotate: 90 }, "y4m")).toStartWith("hflip,transpose=clock,");
    expect(filterChain(cam, { ...base, vflip: true }, "y4m")).toStartWith("vflip,");
    expect(filterChain({ kind: "file", path: "a.mp4" }, { ...base, stabilize: true, hflip: true }, "y4m")).toStartWith("deshake,hflip,");
  });
});

describe("libcamera: the codec per board and per output", () => {
  const needs = { rotate: 0, hflip: false, vflip: false, webrtc: true, passthrough: true };
  test("Pi 4 and older (hardware encoders): H.264 for WebRTC, MJPEG without WebRTC", () => {
    expect(planLibcamera("auto", "pi-with-encoders", needs).codec).toBe("h264");
    expect(planLibcamera("auto", "pi-with-encoders", { ...needs, webrtc: false }).codec).toBe("mjpeg");
  });
  test("Pi 5 (no hardware encoders): raw pictures for libjpeg-turbo and libx264", () => {
    expect(planLibcamera("auto", "pi5", needs).codec).toBe("yuv420");
    expect(planLibcamera("auto", "pi5", { ...needs, webrtc: false }).codec).toBe("yuv420");
  });
  test("180° and the mirrors are done by rpicam-vid; 90/270 need raw pictures and are done here", () => {
    expect(planLibcamera("auto", "pi-with-encoders", { ...needs, rotate: 180 })).toMatchObject({ hflip: true, vflip: true, rotate: 0, codec: "h264" });
    expect(planLibcamera("auto", "pi-with-encoders", { ...needs, rotate: 180, hflip: true })).toMatchObject({ hflip: false, vflip: true });
    expect(planLibcamera("auto", "pi-with-encoders", { ...needs, rotate: 90 })).toMatchObject({ codec: "yuv420", rotate: 90 });
    expect(() => planLibcamera("h264", "pi-with-encoders", { ...needs, rotate: 270 })).toThrow(CameraPlanError);
    expect(() => planLibcamera("yuyv", "pi5", needs)).toThrow(/V4L2 format/);
  });
  test("--no-passthrough takes raw pictures, to be encoded here", () => {
    expect(planLibcamera("auto", "pi-with-encoders", { ...needs, passthrough: false }).codec).toBe("yuv420");
    expect(() => planLibcamera("mjpeg", "pi-with-encoders", { ...needs, passthrough: false })).toThrow(/--no-passthrough/);
  });
  test("the board comes from the device tree's model", () => {
    expect(boardOf("Raspberry Pi 5 Model B Rev 1.0")).toBe("pi5");
    expect(boardOf("Raspberry Pi 4 Model B Rev 1.4")).toBe("pi-with-encoders");
    expect(boardOf("Raspberry Pi Zero 2 W Rev 1.0")).toBe("pi-with-encoders");
    expect(boardOf("")).toBe("other");
  });
  test("rpicam-vid: no preview, no time limit, size, rate, codec, inline headers, flushed to stdout", () => {
    const settings = { camera: 1, width: 1280, height: 720, fps: 30, quality: 85, keyint: 30, bitrateKbps: 2500 };
    const h264 = rpicamArgs("rpicam-vid", { codec: "h264", hflip: true, vflip: false, rotate: 0 }, settings);
    expect(h264.join(" ")).toBe(
      "rpicam-vid -t 0 -n --camera 1 --codec h264 --inline --intra 30 --bitrate 2500000 --profile baseline --width 1280 --height 720 --framerate 30 --hflip --flush -o -",
    );
    const mjpeg = rpicamArgs("rpicam-vid", { codec: "mjpeg", hflip: false, vflip: true, rotate: 0 }, settings);
    expect(mjpeg.join(" ")).toBe("rpicam-vid -t 0 -n --camera 1 --codec mjpeg --quality 85 --width 1280 --height 720 --framerate 30 --vflip --flush -o -");
  });
  test("the size asked of the camera: 1280x720 by default, one side follows 16:9, made smaller by the reduction", () => {
    expect(libcameraSize(null, null, 0)).toEqual({ width: 1280, height: 720 });
    expect(libcameraSize(1920, null, 0)).toEqual({ width: 1920, height: 1080 });
    expect(libcameraSize(1280, 720, 50)).toEqual({ width: 640, height: 360 });
  });
});

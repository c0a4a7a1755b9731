/**
 * `glasscast devices`: the cameras on the machine with the formats, sizes and
 * rates each offers. The parsers read samples of the real tools' output
 * (test/fixtures/devices: v4l2-ctl, ffmpeg -list_formats, rpicam-hello);
 * the whole command runs on a fake Raspberry Pi 4 with two USB cameras (a
 * sysfs folder, and v4l2-ctl / ffmpeg / rpicam-hello scripts that print
 * those samples), and on this machine as it is (no camera).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseFfmpegListFormats, probeV4l2Formats, type V4l2Format } from "../src/devices/ffmpeg-list-formats.ts";
import { classifyNodeName, listDevices, type DeviceListing } from "../src/devices/list.ts";
import { parseRpicamCameras } from "../src/devices/rpicam.ts";
import { parseV4l2CtlFormats } from "../src/devices/v4l2-ctl.ts";
import { tempDir } from "./helpers/ffmpeg.ts";
import { CLI, ROOT } from "./helpers/server.ts";

setDefaultTimeout(30_000);

const FIXTURES = join(import.meta.dir, "fixtures", "devices");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");
const scratch = tempDir("glasscast-devices-");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/bash\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A sysfs folder: videoN/name for each node (plus a subdevice, which is not a video node). */
function fakeSysfs(dir: string, names: Record<number, string>): string {
  for (const [n, name] of Object.entries(names)) {
    mkdirSync(join(dir, `video${n}`), { recursive: true });
    writeFileSync(join(dir, `video${n}`, "name"), `${name}\n`);
  }
  mkdirSync(join(dir, "v4l-subdev0"), { recursive: true });
  writeFileSync(join(dir, "v4l-subdev0", "name"), "imx708\n");
  return dir;
}

/** A program that prints a fixture per device, checks its arguments and logs them. */
function fakeByDevice(path: string, expectedArgs: string, byDevice: Record<string, string>, toStderr: boolean, unknown: string): string {
  const cases = Object.entries(byDevice)
    .map(([device, file]) => `  ${device}) /bin/cat "${join(FIXTURES, file)}"${toStderr ? " >&2; exit 1" : ""} ;;`)
    .join("\n");
  return script(
    path,
    [
      `echo "$*" >> "${path}.log"`,
      `device="\${@: -1}"`,
      `if [ "$*" != "${expectedArgs} $device" ]; then echo "fake: unexpected arguments: $*" >&2; exit 64; fi`,
      `case "$device" in`,
      cases,
      `  *) ${unknown} ;;`,
      `esac`,
    ].join("\n"),
  );
}

function sizes(format: V4l2Format | undefined): string[] {
  return (format?.sizes ?? []).map((s) => `${s.width}x${s.height}`);
}

describe("v4l2-ctl --list-formats-ext", () => {
  test("a Logitech C920: YUYV, H.264 and MJPEG under ffmpeg's names, each size with its own rates", () => {
    const { bufferType, multiplanar, formats } = parseV4l2CtlFormats(fixture("v4l2-ctl-c920.txt"));
    expect({ bufferType, multiplanar }).toEqual({ bufferType: "Video Capture", multiplanar: false });
    expect(formats.map((f) => [f.ffmpegName, f.fourcc, f.description, f.compressed])).toEqual([
      ["yuyv422", "YUYV", "YUYV 4:2:2", false],
      ["h264", "H264", "H.264", true],
      ["mjpeg", "MJPG", "Motion-JPEG", true],
    ]);
    const [yuyv, , mjpeg] = formats;
    expect(sizes(mjpeg)).toHaveLength(17);
    expect(mjpeg!.sizes.find((s) => s.width === 1920)).toEqual({ width: 1920, height: 1080, fps: [30, 24, 20, 15, 10, 7.5, 5] });
    // Raw 1080p is slow over USB 2: 5 fps, and the largest sizes 2 fps.
    expect(yuyv!.sizes.find((s) => s.width === 1920)).toEqual({ width: 1920, height: 1080, fps: [5] });
    expect(yuyv!.sizes.at(-1)).toEqual({ width: 2304, height: 1536, fps: [2] });
    expect(yuyv!.fps).toEqual([30, 24, 20, 15, 10, 7.5, 5, 2]);
    expect(yuyv!.sizeRange).toBeUndefined();
  });

  test("a cheap webcam, printed by an older v4l-utils (a blank line after each format)", () => {
    const { formats } = parseV4l2CtlFormats(fixture("v4l2-ctl-cheap-webcam.txt"));
    expect(formats.map((f) => f.ffmpegName)).toEqual(["mjpeg", "yuyv422"]);
    expect(sizes(formats[0])).toEqual(["1280x720", "640x480", "800x600", "1024x768", "320x240", "1920x1080"]);
    expect(formats[1]!.sizes.map((s) => s.fps)).toEqual([[30], [20], [10], [30], [10], [5]]);
  });

  test("the Pi 4's unicam node: stepwise sizes, and Bayer formats ffmpeg cannot capture", () => {
    const { formats } = parseV4l2CtlFormats(fixture("v4l2-ctl-pi4-unicam-image.txt"));
    expect(formats).toHaveLength(30);
    for (const f of formats) {
      expect(f.sizes).toEqual([]);
      expect(f.sizeRange).toEqual({ minWidth: 16, minHeight: 16, maxWidth: 16376, maxHeight: 16376, stepWidth: 1, stepHeight: 1 });
    }
    const byFourcc = new Map(formats.map((f) => [f.fourcc, f]));
    expect(byFourcc.get("YUYV")!.ffmpegName).toBe("yuyv422");
    expect(byFourcc.get("RGGB")!.ffmpegName).toBe("bayer_rggb8");
    expect(byFourcc.get("pRAA")).toMatchObject({ ffmpegName: null, description: "10-bit Bayer RGRG/GBGB Packed", compressed: false });
    // A fourcc with a space in it keeps it.
    expect(byFourcc.get("Y10 ")).toMatchObject({ ffmpegName: null, description: "10-bit Greyscale" });
  });

  test("the Pi's H.264 encoder node is multi-planar", () => {
    const listing = parseV4l2CtlFormats(fixture("v4l2-ctl-pi4-codec-encode.txt"));
    expect(listing.bufferType).toBe("Video Capture Multiplanar");
    expect(listing.multiplanar).toBe(true);
    expect(listing.formats).toEqual([
      {
        ffmpegName: "h264",
        fourcc: "H264",
        description: "H.264",
        compressed: true,
        sizes: [],
        sizeRange: { minWidth: 32, minHeight: 32, maxWidth: 1920, maxHeight: 1920, stepWidth: 2, stepHeight: 2 },
      },
    ]);
  });

  test("the Pi's legacy camera: JPEG and MJPG are both mjpeg and YV12 is yuv420p, as ffmpeg names them", () => {
    const { formats } = parseV4l2CtlFormats(fixture("v4l2-ctl-pi-legacy-camera.txt"));
    expect(formats.map((f) => `${f.fourcc}=${f.ffmpegName}`)).toEqual([
      "YU12=yuv420p",
      "YUYV=yuyv422",
      "RGB3=rgb24",
      "JPEG=mjpeg",
      "H264=h264",
      "MJPG=mjpeg",
      "YVYU=null",
      "VYUY=null",
      "UYVY=uyvy422",
      "NV12=nv12",
      "BGR3=bgr24",
      "YV12=yuv420p",
      "NV21=null",
      "BGR4=bgr0",
    ]);
    expect(formats.filter((f) => f.compressed).map((f) => f.fourcc)).toEqual(["JPEG", "H264", "MJPG"]);
    expect(formats[0]!.sizeRange).toEqual({ minWidth: 32, minHeight: 32, maxWidth: 2592, maxHeight: 1944, stepWidth: 2, stepHeight: 2 });
  });

  test("a UVC metadata node has no capture format", () => {
    expect(parseV4l2CtlFormats(fixture("v4l2-ctl-uvc-metadata.txt"))).toEqual({ bufferType: "Video Capture", multiplanar: false, formats: [] });
  });

  test("continuous sizes, interval ranges and emulated formats", () => {
    const text = [
      "ioctl: VIDIOC_ENUM_FMT",
      "\tType: Video Capture",
      "",
      "\t[0]: 'YU12' (Planar YUV 4:2:0)",
      "\t\tSize: Continuous 48x32 - 8192x8192",
      "\t[1]: 'RGB3' (24-bit RGB 8-8-8, emulated)",
      "\t\tSize: Discrete 640x480",
      "\t\t\tInterval: Continuous 0.033s - 1.000s (1.000-30.000 fps)",
    ].join("\n");
    const { formats } = parseV4l2CtlFormats(text);
    expect(formats[0]!.sizeRange).toEqual({ minWidth: 48, minHeight: 32, maxWidth: 8192, maxHeight: 8192, stepWidth: 1, stepHeight: 1 });
    expect(formats[1]).toEqual({
      ffmpegName: "rgb24",
      fourcc: "RGB3",
      description: "24-bit RGB 8-8-8",
      compressed: false,
      emulated: true,
      sizes: [{ width: 640, height: 480, fpsRange: { min: 1, max: 30 } }],
    });
  });

  test("the layout of v4l-utils before 1.14 (Index / Pixel Format / Name)", () => {
    const text = [
      "ioctl: VIDIOC_ENUM_FMT",
      "\tIndex       : 0",
      "\tType        : Video Capture",
      "\tPixel Format: 'MJPG' (compressed)",
      "\tName        : Motion-JPEG",
      "\t\tSize: Discrete 1280x720",
      "\t\t\tInterval: Discrete 0.033s (30.000 fps)",
      "",
    ].join("\n");
    expect(parseV4l2CtlFormats(text).formats).toEqual([
      {
        ffmpegName: "mjpeg",
        fourcc: "MJPG",
        description: "Motion-JPEG",
        compressed: true,
        sizes: [{ width: 1280, height: 720, fps: [30] }],
        fps: [30],
      },
    ]);
  });

  test("text that is not v4l2-ctl's is refused, quoting how it begins", () => {
    expect(() => parseV4l2CtlFormats("Usage: v4l2-ctl <options>\n")).toThrow(
      /not v4l2-ctl --list-formats-ext output \(it begins "Usage: v4l2-ctl <options>"\)/,
    );
  });
});

describe("ffmpeg -list_formats", () => {
  test("the C920 as ffmpeg lists it: the same names and sizes as v4l2-ctl gives, without rates", () => {
    const fromFfmpeg = parseFfmpegListFormats(fixture("ffmpeg-c920.txt"));
    const fromV4l2Ctl = parseV4l2CtlFormats(fixture("v4l2-ctl-c920.txt")).formats;
    expect(fromFfmpeg.map((f) => [f.ffmpegName, f.description, f.compressed])).toEqual(fromV4l2Ctl.map((f) => [f.ffmpegName, f.description, f.compressed]));
    fromFfmpeg.forEach((f, i) => {
      expect(sizes(f)).toEqual(sizes(fromV4l2Ctl[i]));
      expect(f.fourcc).toBeUndefined();
      expect(f.fps).toBeUndefined();
    });
  });

  test("the Pi's legacy camera: stepwise {32-2592, 2}x{32-1944, 2}, and the formats ffmpeg calls Unsupported", () => {
    const fromFfmpeg = parseFfmpegListFormats(fixture("ffmpeg-pi-legacy-camera.txt"));
    const fromV4l2Ctl = parseV4l2CtlFormats(fixture("v4l2-ctl-pi-legacy-camera.txt")).formats;
    expect(fromFfmpeg.map((f) => [f.ffmpegName, f.description, f.compressed])).toEqual(fromV4l2Ctl.map((f) => [f.ffmpegName, f.description, f.compressed]));
    for (const f of fromFfmpeg) {
      expect(f.sizes).toEqual([]);
      expect(f.sizeRange).toEqual({ minWidth: 32, minHeight: 32, maxWidth: 2592, maxHeight: 1944, stepWidth: 2, stepHeight: 2 });
    }
  });

  test("an error instead of a listing is no format", () => {
    expect(parseFfmpegListFormats(fixture("ffmpeg-not-capture.txt"))).toEqual([]);
    expect(parseFfmpegListFormats(fixture("ffmpeg-no-device.txt"))).toEqual([]);
  });

  test("probeV4l2Formats runs ffmpeg with an argument list and reads its stderr (it exits 1 after listing: normal)", async () => {
    const dir = join(scratch, "probe");
    mkdirSync(dir, { recursive: true });
    const ffmpeg = fakeByDevice(
      join(dir, "ffmpeg"),
      "-hide_banner -f v4l2 -list_formats all -i",
      { "/dev/video0": "ffmpeg-c920.txt", "/dev/video1": "ffmpeg-not-capture.txt" },
      true,
      "exit 1",
    );
    const formats = await probeV4l2Formats(ffmpeg, "/dev/video0");
    expect(formats).toEqual(parseFfmpegListFormats(fixture("ffmpeg-c920.txt")));
    expect(readFileSync(`${ffmpeg}.log`, "utf8")).toBe("-hide_banner -f v4l2 -list_formats all -i /dev/video0\n");
    // A node that is not a capture device: ffmpeg's last line, which names it.
    await expect(probeV4l2Formats(ffmpeg, "/dev/video1")).rejects.toThrow(/^\/dev\/video1: No such device$/);
  });

  test("probeV4l2Formats with the real ffmpeg on a device that does not exist throws ffmpeg's last line", async () => {
    const device = join(scratch, "video9");
    await expect(probeV4l2Formats("ffmpeg", device)).rejects.toThrow(`${device}: No such file or directory`);
  });

  test("probeV4l2Formats: a missing ffmpeg, and one that does not answer in time (killed)", async () => {
    const dir = join(scratch, "probe-hang");
    mkdirSync(dir, { recursive: true });
    await expect(probeV4l2Formats(join(dir, "no-ffmpeg"), "/dev/video0")).rejects.toThrow(/ffmpeg not found: ".*no-ffmpeg"/);
    const hanging = script(join(dir, "ffmpeg"), `echo $$ > "${dir}/pid"\nexec /bin/sleep 30`);
    await expect(probeV4l2Formats(hanging, "/dev/video0", 300)).rejects.toThrow(/\/dev\/video0: no answer within 0\.3 s \(killed\)/);
    const pid = Number(readFileSync(join(dir, "pid"), "utf8"));
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});

describe("rpicam-hello --list-cameras", () => {
  test("a Camera Module 3 wide (imx708) on a Pi 4: sensor, size, bits, colour filter, id and modes with rate and crop", () => {
    expect(parseRpicamCameras(fixture("rpicam-imx708.txt"))).toEqual([
      {
        index: 0,
        sensor: "imx708_wide",
        width: 4608,
        height: 2592,
        bitDepth: 10,
        colorFilter: "RGGB",
        id: "/base/soc/i2c0mux/i2c@1/imx708@1a",
        modes: [
          { format: "SRGGB10_CSI2P", width: 1536, height: 864, fps: 120.13, crop: { x: 768, y: 432, width: 3072, height: 1728 } },
          { format: "SRGGB10_CSI2P", width: 2304, height: 1296, fps: 56.03, crop: { x: 0, y: 0, width: 4608, height: 2592 } },
          { format: "SRGGB10_CSI2P", width: 4608, height: 2592, fps: 14.35, crop: { x: 0, y: 0, width: 4608, height: 2592 } },
        ],
      },
    ]);
  });

  test("the HQ camera (imx477): modes in two sensor formats", () => {
    const [camera] = parseRpicamCameras(fixture("rpicam-imx477.txt"));
    expect(camera).toMatchObject({ index: 0, sensor: "imx477", width: 4056, height: 3040, bitDepth: 12, colorFilter: "RGGB" });
    expect(camera!.modes.map((m) => `${m.format} ${m.width}x${m.height} ${m.fps}`)).toEqual([
      "SRGGB10_CSI2P 1332x990 120.05",
      "SRGGB12_CSI2P 2028x1080 50.03",
      "SRGGB12_CSI2P 2028x1520 40.01",
      "SRGGB12_CSI2P 4056x3040 10",
    ]);
  });

  test("two cameras on a Pi 5", () => {
    const cameras = parseRpicamCameras(fixture("rpicam-pi5-two-cameras.txt"));
    expect(cameras.map((c) => [c.index, c.sensor, c.modes.length, c.id])).toEqual([
      [0, "imx477", 4, "/base/axi/pcie@120000/rp1/i2c@88000/imx477@1a"],
      [1, "imx708", 3, "/base/axi/pcie@120000/rp1/i2c@80000/imx708@1a"],
    ]);
  });

  test("an early libcamera-hello: sizes only, no rates", () => {
    const [camera] = parseRpicamCameras(fixture("libcamera-hello-imx219-bullseye.txt"));
    expect(camera).toMatchObject({ sensor: "imx219", width: 3280, height: 2464, bitDepth: null, colorFilter: null });
    expect(camera!.modes.map((m) => `${m.format} ${m.width}x${m.height} ${m.fps} ${m.crop}`)).toEqual([
      ...["640x480", "1640x1232", "1920x1080", "3280x2464"].map((s) => `SRGGB10_CSI2P ${s} null null`),
      ...["640x480", "1640x1232", "1920x1080", "3280x2464"].map((s) => `SRGGB8 ${s} null null`),
    ]);
  });

  test('"No cameras available!" is no camera; anything else is refused', () => {
    expect(parseRpicamCameras(fixture("rpicam-none.txt"))).toEqual([]);
    expect(() => parseRpicamCameras("rpicam-apps build: v1.5.0\n")).toThrow(/not a --list-cameras listing \(it begins "rpicam-apps build: v1.5.0"\)/);
  });
});

describe("which V4L2 nodes are not cameras", () => {
  test("the Pi's codec, ISP and HEVC nodes; unicam and rp1-cfe belong to libcamera cameras; USB cameras are cameras", () => {
    expect(classifyNodeName("bcm2835-codec-decode")?.kind).toBe("codec");
    expect(classifyNodeName("bcm2835-codec-encode_image")?.kind).toBe("codec");
    expect(classifyNodeName("rpi-hevc-dec")?.kind).toBe("codec");
    expect(classifyNodeName("bcm2835-isp")?.kind).toBe("isp");
    expect(classifyNodeName("pispbe-input")?.kind).toBe("isp");
    for (const name of ["unicam-image", "unicam-embedded", "rp1-cfe-csi2_ch0", "rp1-cfe-fe_image0"]) {
      expect(classifyNodeName(name)).toMatchObject({ kind: "libcamera", reason: expect.stringContaining("libcamera:N") });
    }
    expect(classifyNodeName("HD Pro Webcam C920")).toBeNull();
    expect(classifyNodeName("mmal service 16.1")).toBeNull();
  });
});

// ---------------------------------------------------------------------------
// The whole command, on a fake Raspberry Pi 4 with a C920 and a cheap webcam.

const PI4_WITH_WEBCAMS: Record<number, string> = {
  0: "unicam-image",
  1: "unicam-embedded",
  2: "HD Pro Webcam C920",
  3: "HD Pro Webcam C920",
  4: "USB 2.0 Camera: HD USB Camera",
  5: "USB 2.0 Camera: HD USB Camera",
  10: "bcm2835-codec-decode",
  11: "bcm2835-codec-encode",
  12: "bcm2835-codec-isp",
  13: "bcm2835-isp",
  14: "bcm2835-isp",
  15: "bcm2835-isp",
  16: "bcm2835-isp",
  18: "bcm2835-codec-image_fx",
  19: "rpi-hevc-dec",
  20: "bcm2835-isp",
  21: "bcm2835-isp",
  22: "bcm2835-isp",
  23: "bcm2835-isp",
  31: "bcm2835-codec-encode_image",
};

interface Machine {
  sysfs: string;
  bin: string;
  apps: string;
  v4l2ctl: string;
}
let pi: Machine;

beforeAll(() => {
  const root = join(scratch, "pi4");
  const bin = join(root, "bin");
  const apps = join(root, "opt-rpicam");
  mkdirSync(bin, { recursive: true });
  mkdirSync(apps, { recursive: true });
  const v4l2ctl = fakeByDevice(
    join(bin, "v4l2-ctl"),
    "--list-formats-ext -d",
    {
      "/dev/video2": "v4l2-ctl-c920.txt",
      "/dev/video3": "v4l2-ctl-uvc-metadata.txt",
      "/dev/video4": "v4l2-ctl-cheap-webcam.txt",
      "/dev/video5": "v4l2-ctl-uvc-metadata.txt",
    },
    false,
    `echo "Cannot open device $device, exiting." >&2; exit 1`,
  );
  // rpicam-hello beside the rpicam-vid given with --rpicam, not on PATH.
  script(join(apps, "rpicam-vid"), "exit 0");
  script(join(apps, "rpicam-hello"), `[ "$*" = "--list-cameras" ] || exit 64\nexec /bin/cat "${join(FIXTURES, "rpicam-imx708.txt")}"`);
  pi = { sysfs: fakeSysfs(join(root, "sysfs"), PI4_WITH_WEBCAMS), bin, apps, v4l2ctl };
});

function glasscast(args: string[], env: Record<string, string> = {}) {
  const r = Bun.spawnSync([process.execPath, "run", CLI, ...args], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 20_000,
    env: { ...process.env, ...env },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** The fake machine: its sysfs, and a PATH with only the fake tools on it. */
const onPi = (bin: string, sysfs: string) => ({ PATH: bin, GLASSCAST_V4L2_SYSFS: sysfs });

/** The lines of one section of the listing, from its heading to the next unindented line. */
function section(stdout: string, heading: string): string[] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) throw new Error(`no section ${JSON.stringify(heading)} in:\n${stdout}`);
  const end = lines.findIndex((l, i) => i > start && !l.startsWith(" "));
  return lines.slice(start, end < 0 ? undefined : end);
}

describe("glasscast devices on a fake Raspberry Pi 4 with two USB webcams", () => {
  test("lists the USB cameras with their --source and formats, the Pi's nodes apart, and the libcamera camera", () => {
    const r = glasscast(["devices", "--rpicam", join(pi.apps, "rpicam-vid")], onPi(pi.bin, pi.sysfs));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const cameras = section(r.stdout, "V4L2 cameras");
    expect(cameras[0]).toBe("V4L2 cameras (formats from v4l2-ctl)");
    expect(cameras.filter((l) => l.startsWith("  /dev/"))).toEqual([
      "  /dev/video2  HD Pro Webcam C920  (use: --source /dev/video2)",
      "  /dev/video4  USB 2.0 Camera: HD USB Camera  (use: --source /dev/video4)",
    ]);
    const c920 = cameras.slice(
      cameras.indexOf("  /dev/video2  HD Pro Webcam C920  (use: --source /dev/video2)") + 1,
      cameras.indexOf("  /dev/video4  USB 2.0 Camera: HD USB Camera  (use: --source /dev/video4)"),
    );
    expect(c920).toHaveLength(3);
    // Sizes grouped by their highest rate, fastest first; the largest first within a group.
    expect(c920[0]).toBe(
      "    yuyv422  YUYV 4:2:2   800x448 640x480 640x360 432x240 352x288 320x240 320x180 176x144 160x120 160x90 @ 30 fps; " +
        "800x600 864x480 @ 24 fps; 960x720 1024x576 @ 15 fps; 1280x720 @ 10 fps; 1600x896 @ 7.5 fps; 1920x1080 @ 5 fps; 2304x1536 2304x1296 @ 2 fps",
    );
    expect(c920[1]).toBe(
      "    h264     H.264        1920x1080 1600x896 1280x720 960x720 1024x576 800x600 864x480 800x448 640x480 640x360 432x240 352x288 320x240 320x180 176x144 160x120 160x90 @ 30 fps",
    );
    expect(c920[2]).toStartWith("    mjpeg    Motion-JPEG  1920x1080 1600x896 1280x720 ");
    expect(cameras.at(-2)).toBe("    mjpeg    Motion-JPEG  1920x1080 1280x720 1024x768 800x600 640x480 320x240 @ 30 fps");
    expect(cameras.at(-1)).toBe("    yuyv422  YUYV 4:2:2   640x480 320x240 @ 30 fps; 800x600 @ 20 fps; 1280x720 1024x768 @ 10 fps; 1920x1080 @ 5 fps");

    const others = section(r.stdout, "V4L2 nodes that are not cameras").slice(1);
    expect(others.map((l) => l.trim().split(/\s+/)[0])).toEqual(
      Object.keys(PI4_WITH_WEBCAMS)
        .map((n) => `/dev/video${n}`)
        .filter((d) => d !== "/dev/video2" && d !== "/dev/video4"),
    );
    expect(others[0]).toMatch(/^ {2}\/dev\/video0 +unicam-image +the CSI-2 receiver \(unicam\) of a libcamera camera: use that camera as libcamera:N$/);
    expect(others[2]).toMatch(/^ {2}\/dev\/video3 +HD Pro Webcam C920 +no video capture formats \(a metadata or output node\)$/);
    expect(others.find((l) => l.includes("/dev/video11 "))).toMatch(/bcm2835-codec-encode +the Pi's hardware video codec/);
    // The codec and ISP nodes are known by name: never opened.
    expect(readFileSync(`${pi.v4l2ctl}.log`, "utf8").trim().split("\n").sort()).toEqual(
      ["/dev/video2", "/dev/video3", "/dev/video4", "/dev/video5"].map((d) => `--list-formats-ext -d ${d}`),
    );

    expect(section(r.stdout, "libcamera cameras")).toEqual([
      "libcamera cameras (from rpicam-hello)",
      "  libcamera:0  imx708_wide 4608x2592 10-bit RGGB  (use: --source libcamera:0)",
      "    1536x864 up to 120 fps, 2304x1296 up to 56 fps, 4608x2592 up to 14 fps",
    ]);
  });

  test("--json prints one JSON document with the same information", () => {
    const r = glasscast(["devices", "--json", `--rpicam=${join(pi.apps, "rpicam-vid")}`], onPi(pi.bin, pi.sysfs));
    expect(r.code).toBe(0);
    const listing = JSON.parse(r.stdout) as DeviceListing;
    expect(listing.v4l2.formatsFrom).toEqual({ name: "v4l2-ctl", path: pi.v4l2ctl });
    expect(listing.v4l2.cameras.map((c) => [c.device, c.name, c.source, c.error])).toEqual([
      ["/dev/video2", "HD Pro Webcam C920", "/dev/video2", null],
      ["/dev/video4", "USB 2.0 Camera: HD USB Camera", "/dev/video4", null],
    ]);
    expect(listing.v4l2.cameras[0]!.formats).toEqual(parseV4l2CtlFormats(fixture("v4l2-ctl-c920.txt")).formats);
    expect(listing.v4l2.notCameras.map((n) => [n.device, n.kind])).toEqual([
      ["/dev/video0", "libcamera"],
      ["/dev/video1", "libcamera"],
      ["/dev/video3", "metadata"],
      ["/dev/video5", "metadata"],
      ["/dev/video10", "codec"],
      ["/dev/video11", "codec"],
      ["/dev/video12", "codec"],
      ["/dev/video13", "isp"],
      ["/dev/video14", "isp"],
      ["/dev/video15", "isp"],
      ["/dev/video16", "isp"],
      ["/dev/video18", "codec"],
      ["/dev/video19", "codec"],
      ["/dev/video20", "isp"],
      ["/dev/video21", "isp"],
      ["/dev/video22", "isp"],
      ["/dev/video23", "isp"],
      ["/dev/video31", "codec"],
    ]);
    expect(listing.libcamera.tool).toEqual({ name: "rpicam-hello", path: join(pi.apps, "rpicam-hello") });
    expect(listing.libcamera.problem).toBeNull();
    expect(listing.libcamera.cameras).toEqual(parseRpicamCameras(fixture("rpicam-imx708.txt")).map((c) => ({ ...c, source: "libcamera:0" })));
  });

  test("without v4l2-ctl the formats come from --ffmpeg's -list_formats; rpicam-hello missing is said, not an error", () => {
    const root = join(scratch, "pi-legacy");
    const bin = join(root, "bin");
    mkdirSync(bin, { recursive: true });
    const ffmpeg = fakeByDevice(
      join(root, "my-ffmpeg"),
      "-hide_banner -f v4l2 -list_formats all -i",
      {
        "/dev/video0": "ffmpeg-c920.txt",
        "/dev/video1": "ffmpeg-not-capture.txt",
        "/dev/video2": "ffmpeg-pi-legacy-camera.txt",
      },
      true,
      `echo "$device: No such file or directory" >&2; exit 1`,
    );
    const sysfs = fakeSysfs(join(root, "sysfs"), { 0: "HD Pro Webcam C920", 1: "HD Pro Webcam C920", 2: "mmal service 16.1", 10: "bcm2835-codec-decode" });
    const r = glasscast(["devices", "--ffmpeg", ffmpeg], onPi(bin, sysfs));
    expect(r.code).toBe(0);
    const cameras = section(r.stdout, "V4L2 cameras");
    expect(cameras[0]).toBe("V4L2 cameras (formats from ffmpeg; install v4l-utils to see frame rates)");
    expect(cameras).toContain(
      "    mjpeg    Motion-JPEG  1920x1080 1600x896 1280x720 960x720 1024x576 800x600 864x480 800x448 640x480 640x360 432x240 352x288 320x240 320x180 176x144 160x120 160x90",
    );
    expect(cameras).toContain("  /dev/video2  mmal service 16.1  (use: --source /dev/video2)");
    expect(cameras.find((l) => l.includes("Y/VU 4:2:0"))).toMatch(
      /^ {4}- +Y\/VU 4:2:0 +any size from 32x32 to 2592x1944 in steps of 2\/2 {2}\[ffmpeg cannot capture this format\]$/,
    );
    expect(section(r.stdout, "V4L2 nodes that are not cameras").slice(1)).toEqual([
      "  /dev/video1   HD Pro Webcam C920    not a video capture device (ffmpeg: /dev/video1: No such device)",
      "  /dev/video10  bcm2835-codec-decode  the Pi's hardware video codec (h264_v4l2m2m and friends); not a camera",
    ]);
    expect(readFileSync(`${ffmpeg}.log`, "utf8").trim().split("\n").sort()).toEqual(
      ["/dev/video0", "/dev/video1", "/dev/video2"].map((d) => `-hide_banner -f v4l2 -list_formats all -i ${d}`),
    );
    expect(r.stdout).toEndWith("libcamera: rpicam-hello not found (Raspberry Pi OS: sudo apt install rpicam-apps)\n");
  });

  test("--rpicam libcamera-vid: libcamera-hello is looked for beside it, then on PATH, and its absence is said", () => {
    const dir = join(scratch, "bullseye");
    mkdirSync(dir, { recursive: true });
    script(join(dir, "libcamera-vid"), "exit 0");
    const missing = glasscast(["devices", "--rpicam", join(dir, "libcamera-vid")], onPi(pi.bin, pi.sysfs));
    expect(missing.code).toBe(0);
    expect(missing.stdout).toEndWith(
      `libcamera: libcamera-hello not found beside ${join(dir, "libcamera-vid")} nor on PATH (Raspberry Pi OS: sudo apt install libcamera-apps)\n`,
    );
    script(join(pi.bin, "libcamera-hello"), `exec /bin/cat "${join(FIXTURES, "libcamera-hello-imx219-bullseye.txt")}"`);
    try {
      const found = glasscast(["devices", "--json", "--rpicam", join(dir, "libcamera-vid")], onPi(pi.bin, pi.sysfs));
      const listing = JSON.parse(found.stdout) as DeviceListing;
      expect(listing.libcamera.tool).toEqual({ name: "libcamera-hello", path: join(pi.bin, "libcamera-hello") });
      expect(listing.libcamera.cameras.map((c) => [c.source, c.sensor])).toEqual([["libcamera:0", "imx219"]]);
    } finally {
      rmSync(join(pi.bin, "libcamera-hello"));
    }
  });
});

describe("listDevices when things go wrong", () => {
  test("a camera whose formats cannot be read stays a camera, with the reason (and the video-group hint)", async () => {
    const dir = join(scratch, "denied");
    mkdirSync(dir, { recursive: true });
    const v4l2ctl = script(join(dir, "v4l2-ctl"), `echo "Failed to open \${@: -1}: Permission denied" >&2\nexit 1`);
    script(join(dir, "rpicam-vid"), "exit 0");
    script(join(dir, "rpicam-hello"), `echo "ERROR: *** failed to acquire camera ***" >&2\nexit 255`);
    const listing = await listDevices({ sysfs: fakeSysfs(join(dir, "sysfs"), { 0: "HD Pro Webcam C920" }), v4l2ctl, rpicam: join(dir, "rpicam-vid") });
    expect(listing.v4l2.cameras).toEqual([
      {
        device: "/dev/video0",
        name: "HD Pro Webcam C920",
        source: "/dev/video0",
        formats: [],
        error: "Failed to open /dev/video0: Permission denied (is this user in the video group? sudo usermod -aG video $USER)",
      },
    ]);
    expect(listing.libcamera).toEqual({
      tool: { name: "rpicam-hello", path: join(dir, "rpicam-hello") },
      problem: "rpicam-hello --list-cameras failed: ERROR: *** failed to acquire camera ***",
      cameras: [],
    });
  });

  test("a v4l2-ctl or rpicam-hello that hangs is killed at its time limit", async () => {
    const dir = join(scratch, "hang");
    mkdirSync(dir, { recursive: true });
    const v4l2ctl = script(join(dir, "v4l2-ctl"), "exec /bin/sleep 30");
    script(join(dir, "rpicam-vid"), "exit 0");
    script(join(dir, "rpicam-hello"), "exec /bin/sleep 30");
    const listing = await listDevices({
      sysfs: fakeSysfs(join(dir, "sysfs"), { 0: "Webcam" }),
      v4l2ctl,
      rpicam: join(dir, "rpicam-vid"),
      timeoutMs: 300,
      rpicamTimeoutMs: 300,
    });
    expect(listing.v4l2.cameras[0]!.error).toBe(`v4l2-ctl: ${v4l2ctl} --list-formats-ext -d /dev/video0: no answer within 0.3 s (killed)`);
    expect(listing.libcamera.problem).toBe(`rpicam-hello: ${join(dir, "rpicam-hello")} --list-cameras: no answer within 0.3 s (killed)`);
  });

  test("neither v4l2-ctl nor ffmpeg: the cameras are still listed by name, and what to install is said", async () => {
    const dir = join(scratch, "no-tools");
    const listing = await listDevices({
      sysfs: fakeSysfs(join(dir, "sysfs"), { 0: "Webcam" }),
      v4l2ctl: join(dir, "no-v4l2-ctl"),
      ffmpeg: join(dir, "no-ffmpeg"),
    });
    expect(listing.v4l2.formatsFrom).toBeNull();
    expect(listing.v4l2.problem).toBe(`formats not listed: neither v4l2-ctl nor ffmpeg ("${join(dir, "no-ffmpeg")}") was found (sudo apt install v4l-utils)`);
    expect(listing.v4l2.cameras.map((c) => [c.device, c.formats, c.error])).toEqual([["/dev/video0", [], null]]);
  });
});

describe("glasscast devices on this machine, and its arguments", () => {
  const hasNodes = existsSync("/sys/class/video4linux") && readdirSync("/sys/class/video4linux").some((e) => /^video\d+$/.test(e));

  test.skipIf(hasNodes)("no camera here: it says so and exits 0", () => {
    const r = glasscast(["devices"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("V4L2 cameras\n  no V4L2 cameras found");
    if (Bun.which("rpicam-hello") === null && Bun.which("libcamera-hello") === null) {
      expect(r.stdout).toEndWith("libcamera: rpicam-hello not found (Raspberry Pi OS: sudo apt install rpicam-apps)\n");
    }
    const json = JSON.parse(glasscast(["devices", "--json"]).stdout) as DeviceListing;
    expect(json.v4l2.cameras).toEqual([]);
  });

  const bad: [string[], string][] = [
    [["devices", "--bogus"], "devices: unknown option --bogus; expected: glasscast devices [--json] [--ffmpeg PATH] [--rpicam PATH]"],
    [["devices", "--port=8000"], "devices: unknown option --port; expected: glasscast devices [--json] [--ffmpeg PATH] [--rpicam PATH]"],
    [["devices", "video0"], 'devices: unexpected argument "video0"; expected: glasscast devices [--json] [--ffmpeg PATH] [--rpicam PATH]'],
    [["devices", "--ffmpeg"], "devices: --ffmpeg needs a value: the path of the ffmpeg program"],
    [["devices", "--rpicam=", "--json"], "devices: --rpicam needs a value: the path of the rpicam-vid program"],
    [["devices", "--rpicam", "--json"], "devices: --rpicam needs a value: the path of the rpicam-vid program"],
    [["devices", "--json=yes"], 'devices: --json takes no value (given "yes")'],
    [["devices", "--ffmpeg", "a", "--ffmpeg=b"], "devices: --ffmpeg is given more than once"],
  ];
  for (const [args, message] of bad) {
    test(`${args.join(" ")} exits 2: ${message}`, () => {
      const r = glasscast(args);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 2, stdout: "", stderr: `glasscast: ${message}\n` });
    });
  }

  test("--help shows the command", () => {
    const r = glasscast(["devices", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("glasscast devices [--json] [--ffmpeg PATH] [--rpicam PATH]");
  });
});

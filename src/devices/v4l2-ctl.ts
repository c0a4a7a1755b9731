/**
 * Reads what `v4l2-ctl --list-formats-ext -d /dev/videoN` prints (v4l-utils):
 * the node's buffer type, then each capture format with its fourcc,
 * description and flags, its frame sizes (discrete, stepwise or continuous)
 * and, for discrete sizes, the frame intervals. Also reads the layout of
 * v4l-utils before 1.14 ("Index : 0 / Pixel Format: 'YUYV'"). Pure: text in,
 * model out.
 */
import { distinctRates, ffmpegNameForFourcc, type FrameSize, type SizeRange, type V4l2Format } from "./v4l2-format.ts";

export interface V4l2CtlListing {
  /** The buffer type v4l2-ctl enumerated: "Video Capture" or "Video Capture Multiplanar". */
  readonly bufferType: string;
  /** A multi-planar node: ffmpeg's v4l2 input cannot open it. */
  readonly multiplanar: boolean;
  /** Empty for a node with no capture formats (a metadata node, for one). */
  readonly formats: readonly V4l2Format[];
}

/** The flags v4l2-ctl appends to a description, after ", " (v4l2-info.cpp's fmtdesc flags). */
const FLAGS = new Set([
  "compressed",
  "emulated",
  "continuous-bytestream",
  "dyn-resolution",
  "enc-cap-frame-interval",
  "csc-colorspace",
  "csc-ycbcr-enc",
  "csc-hsv-enc",
  "csc-quantization",
  "csc-xfer-func",
  "meta-line-based",
]);

interface Building {
  fourcc: string;
  description: string;
  flags: Set<string>;
  sizes: { width: number; height: number; fps: number[]; fpsRange?: { min: number; max: number } }[];
  sizeRange?: SizeRange;
}

const FORMAT = /^\[(\d+)\]: '(.{4}(?:-BE)?)' \((.*)\)$/;
const OLD_PIXEL_FORMAT = /^Pixel Format\s*: '(.{4}(?:-BE)?)'(?: \((.*)\))?$/;
const OLD_NAME = /^Name\s*: (.*)$/;
const TYPE = /^Type\s*: (.+)$/;
const DISCRETE_SIZE = /^Size: Discrete (\d+)x(\d+)$/;
const RANGE_SIZE = /^Size: (Stepwise|Continuous) (\d+)x(\d+) - (\d+)x(\d+)(?: with step (\d+)\/(\d+))?$/;
const DISCRETE_INTERVAL = /^Interval: Discrete [\d.]+s \(([\d.]+) fps\)$/;
const RANGE_INTERVAL = /^Interval: (?:Stepwise|Continuous) .*\(([\d.]+)-([\d.]+) fps\)$/;

export function parseV4l2CtlFormats(text: string): V4l2CtlListing {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (!lines.includes("ioctl: VIDIOC_ENUM_FMT")) {
    const first = lines.find((l) => l !== "") ?? "(nothing)";
    throw new Error(`not v4l2-ctl --list-formats-ext output (it begins ${JSON.stringify(first.slice(0, 80))})`);
  }
  let bufferType = "Video Capture";
  const formats: Building[] = [];
  let current: Building | undefined;
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if ((m = FORMAT.exec(line))) {
      const parts = m[3]!.split(", ");
      const flags = new Set<string>();
      while (parts.length > 1 && FLAGS.has(parts[parts.length - 1]!)) flags.add(parts.pop()!);
      current = { fourcc: m[2]!, description: parts.join(", "), flags, sizes: [] };
      formats.push(current);
    } else if ((m = OLD_PIXEL_FORMAT.exec(line))) {
      current = { fourcc: m[1]!, description: m[1]!.trim(), flags: new Set(m[2]?.split(", ") ?? []), sizes: [] };
      formats.push(current);
    } else if ((m = OLD_NAME.exec(line)) && current) {
      current.description = m[1]!;
    } else if ((m = TYPE.exec(line))) {
      bufferType = m[1]!;
    } else if ((m = DISCRETE_SIZE.exec(line)) && current) {
      current.sizes.push({ width: Number(m[1]), height: Number(m[2]), fps: [] });
    } else if ((m = RANGE_SIZE.exec(line)) && current) {
      current.sizeRange = {
        minWidth: Number(m[2]),
        minHeight: Number(m[3]),
        maxWidth: Number(m[4]),
        maxHeight: Number(m[5]),
        stepWidth: m[6] === undefined ? 1 : Number(m[6]),
        stepHeight: m[7] === undefined ? 1 : Number(m[7]),
      };
    } else if ((m = DISCRETE_INTERVAL.exec(line)) && current?.sizes.length) {
      current.sizes[current.sizes.length - 1]!.fps.push(Number(m[1]));
    } else if ((m = RANGE_INTERVAL.exec(line)) && current?.sizes.length) {
      current.sizes[current.sizes.length - 1]!.fpsRange = { min: Number(m[1]), max: Number(m[2]) };
    }
  }
  return { bufferType, multiplanar: /multiplanar/i.test(bufferType), formats: formats.map(finish) };
}

function finish(b: Building): V4l2Format {
  const sizes: FrameSize[] = b.sizes.map(({ width, height, fps, fpsRange }) => ({
    width,
    height,
    ...(fps.length > 0 ? { fps: distinctRates(fps) } : {}),
    ...(fpsRange ? { fpsRange } : {}),
  }));
  const rates = distinctRates(b.sizes.flatMap((s) => s.fps));
  return {
    ffmpegName: ffmpegNameForFourcc(b.fourcc),
    fourcc: b.fourcc,
    description: b.description,
    compressed: b.flags.has("compressed"),
    ...(b.flags.has("emulated") ? { emulated: true } : {}),
    sizes,
    ...(b.sizeRange ? { sizeRange: b.sizeRange } : {}),
    ...(rates.length > 0 ? { fps: rates } : {}),
  };
}

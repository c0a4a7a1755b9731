/**
 * A V4L2 camera's formats as ffmpeg sees them: `ffmpeg -hide_banner -f v4l2
 * -list_formats all -i /dev/videoN` writes one line per capture format to
 * stderr ("Raw : yuyv422 : YUYV 4:2:2 : 640x480 …", "Compressed: mjpeg :
 * Motion-JPEG : …", stepwise sizes as "{32-2592, 2}x{32-1944, 2}") and then
 * exits non-zero with "Immediate exit requested", which is normal.
 * `parseFfmpegListFormats` reads that text; `probeV4l2Formats` runs ffmpeg
 * and reads it, and is what the server uses to choose a camera's input format.
 */
import { lastLine, runTool } from "./run-tool.ts";
import type { FrameSize, SizeRange, V4l2Format } from "./v4l2-format.ts";

export type { FrameSize, SizeRange, V4l2Format } from "./v4l2-format.ts";

const LOG_PREFIX = /^\[[^\]]*\]\s*/;
const FORMAT_LINE = /^(Raw|Compressed)\s*:\s*(\S+)\s*:\s*(.*?)\s*:( Emulated :)?((?:\s+(?:\d+x\d+|\{\d+-\d+, \d+\}x\{\d+-\d+, \d+\}))*)\s*$/;
const DISCRETE = /^(\d+)x(\d+)$/;
const STEPWISE = /\{(\d+)-(\d+), (\d+)\}x\{(\d+)-(\d+), (\d+)\}/g;

/** The formats in ffmpeg's -list_formats stderr; [] when it lists none. */
export function parseFfmpegListFormats(stderr: string): V4l2Format[] {
  const formats: V4l2Format[] = [];
  for (const raw of stderr.split(/\r?\n|\r/)) {
    const m = FORMAT_LINE.exec(raw.trim().replace(LOG_PREFIX, ""));
    if (!m) continue;
    const name = m[2]!;
    const sizeText = m[5]!;
    const sizes: FrameSize[] = [];
    let sizeRange: SizeRange | undefined;
    for (const s of sizeText.matchAll(STEPWISE)) {
      sizeRange = {
        minWidth: Number(s[1]),
        maxWidth: Number(s[2]),
        stepWidth: Number(s[3]),
        minHeight: Number(s[4]),
        maxHeight: Number(s[5]),
        stepHeight: Number(s[6]),
      };
    }
    for (const token of sizeText.replace(STEPWISE, " ").trim().split(/\s+/)) {
      const d = DISCRETE.exec(token);
      if (d) sizes.push({ width: Number(d[1]), height: Number(d[2]) });
    }
    formats.push({
      ffmpegName: name === "Unsupported" ? null : name,
      description: m[3]!,
      compressed: m[1] === "Compressed",
      ...(m[4] ? { emulated: true } : {}),
      sizes,
      ...(sizeRange ? { sizeRange } : {}),
    });
  }
  return formats;
}

/**
 * Runs ffmpeg's -list_formats on a V4L2 device and returns its formats.
 * Throws an Error with ffmpeg's last stderr line when the device cannot be
 * opened ("No such file or directory", "Permission denied", "Not a video
 * capture device"…), or when ffmpeg is missing or does not answer in time.
 */
export async function probeV4l2Formats(ffmpeg: string, device: string, timeoutMs = 5000): Promise<V4l2Format[]> {
  const program = Bun.which(ffmpeg);
  if (program === null) throw new Error(`ffmpeg not found: ${JSON.stringify(ffmpeg)} (install it: sudo apt install ffmpeg)`);
  const { code, stderr } = await runTool([program, "-hide_banner", "-f", "v4l2", "-list_formats", "all", "-i", device], timeoutMs);
  const formats = parseFfmpegListFormats(stderr);
  if (formats.length > 0 || /Immediate exit requested/.test(stderr)) return formats;
  const line = lastLine(stderr);
  if (line === null) throw new Error(`${device}: ffmpeg exited with status ${code} and printed nothing`);
  throw new Error(line.includes(device) ? line : `${device}: ${line}`);
}

/**
 * One-off JPEG encoding with ffmpeg, for the rare still picture (placeholders)
 * when libjpeg-turbo is not installed.
 */
import { spawnOwned } from "../process/child.ts";
import type { RawFrame } from "../media/frame.ts";
import { rawVideoInput } from "./ffmpeg-raw-input.ts";
import { mjpegQscale, type JpegSettings } from "./jpeg-settings.ts";

export async function ffmpegEncodeStill(ffmpeg: string, frame: RawFrame, jpeg: JpegSettings): Promise<Uint8Array> {
  const child = spawnOwned(
    [
      ffmpeg,
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      ...rawVideoInput(frame.format, frame.width, frame.height),
      "-i",
      "pipe:0",
      "-frames:v",
      "1",
      "-vf",
      "format=yuvj420p",
      "-c:v",
      "mjpeg",
      "-q:v",
      String(mjpegQscale(jpeg.quality)),
      "-f",
      "mjpeg",
      "pipe:1",
    ],
    { label: "still-jpeg", stderrLevel: "warn", stdin: frame.data },
  );
  const [bytes, code] = await Promise.all([new Response(child.stdout).bytes(), child.exited]);
  if (code !== 0 || bytes.length === 0) throw new Error(`ffmpeg could not encode a still picture (exit ${code})`);
  return bytes;
}

/**
 * The fake V4L2 webcam the benchmarks capture from (test/fakes/ffmpeg given
 * to glasscast as `--ffmpeg`, `--source /dev/video7`): an MJPEG-only camera,
 * and the one-time recording it plays back, made before anything is measured.
 */
import { join } from "node:path";
import { ownChild, stopTree } from "./children.ts";
import { REPO_ROOT } from "./server-process.ts";

/** The start of an ffmpeg command whose input is its testsrc2 pattern at that size and rate. */
export const testsrcInput = (width: number, height: number, fps: number): string[] => [
  "ffmpeg",
  "-hide_banner",
  "-loglevel",
  "error",
  "-f",
  "lavfi",
  "-i",
  `testsrc2=size=${width}x${height}:rate=${fps}`,
];

export const FAKE_DEVICE = "/dev/video7";
export const FAKE_FFMPEG = join(REPO_ROOT, "test", "fakes", "ffmpeg");
/** An MJPEG-only webcam (glasscast passes its JPEGs through). */
export const FAKE_CAMERA_ENV = { FAKE_CAMERA_FORMATS: "mjpeg" };

/** The fake camera makes its recording on first use: do that now, outside any measurement. */
export async function prepareFakeCamera(width: number, height: number, fps: number): Promise<void> {
  const proc = Bun.spawn(
    [
      FAKE_FFMPEG,
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-f",
      "v4l2",
      "-input_format",
      "mjpeg",
      "-video_size",
      `${width}x${height}`,
      "-framerate",
      String(fps),
      "-i",
      FAKE_DEVICE,
      "-frames:v",
      "1",
      "-f",
      "null",
      "-",
    ],
    { env: { ...process.env, ...FAKE_CAMERA_ENV }, stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  ownChild(proc);
  const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  await stopTree(proc);
  if (code !== 0) throw new Error(`the fake camera (${FAKE_FFMPEG}) could not give a frame (exit ${code}): ${err.trim() || "no message"}`);
}

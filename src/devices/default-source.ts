/**
 * The source glasscast uses when none is given: the first camera found, else
 * the test pattern. A Pi camera first (what `rpicam-vid --list-cameras`
 * lists, the program that will capture it), else the first V4L2 node that is
 * a camera (the Pi's codec, ISP and libcamera nodes set apart by name, and
 * metadata nodes by their formats, exactly as `glasscast devices` does).
 * Quick and bounded: both looks run at once, each program run has a time
 * limit, and one that does not answer is a reason given, never a hang.
 */
import { DEFAULT_SYSFS, listCamerasWith, listV4l2, type LibcameraListing } from "./list.ts";
import { basename } from "node:path";

/** rpicam-vid --list-cameras starts libcamera (~1 s on a Pi 4); past this it is taken as stuck. */
export const RPICAM_LIST_TIMEOUT_MS = 5000;
/** Each V4L2 node's format probe (v4l2-ctl, else ffmpeg -list_formats). */
export const V4L2_PROBE_TIMEOUT_MS = 3000;

export interface DefaultSourceOptions {
  /** The ffmpeg program (it probes V4L2 nodes when v4l2-ctl is not installed). */
  readonly ffmpeg: string;
  /** The rpicam-vid program found for --rpicam (null: none installed). */
  readonly rpicam: string | null;
  /** Where the V4L2 nodes are named (default /sys/class/video4linux). */
  readonly sysfs?: string;
  readonly v4l2ctl?: string;
  readonly rpicamTimeoutMs?: number;
  readonly probeTimeoutMs?: number;
}

export interface DefaultSource {
  /** The --source value chosen: libcamera:N, /dev/videoN or testsrc. */
  readonly source: string;
  /** What it is and why it was chosen, for the start line, the log and the page. */
  readonly description: string;
}

const NOT_GIVEN = "no --source given";

export async function chooseDefaultSource(o: DefaultSourceOptions): Promise<DefaultSource> {
  const [libcamera, v4l2] = await Promise.all([
    o.rpicam === null ? null : listCamerasWith({ name: basename(o.rpicam), path: o.rpicam }, o.rpicamTimeoutMs ?? RPICAM_LIST_TIMEOUT_MS),
    listV4l2(o.sysfs ?? DEFAULT_SYSFS, o.v4l2ctl ?? "v4l2-ctl", o.ffmpeg, o.probeTimeoutMs ?? V4L2_PROBE_TIMEOUT_MS),
  ]);
  const piProblem = libcameraProblem(o.rpicam, libcamera);
  const pi = libcamera?.cameras[0];
  if (pi) return { source: `libcamera:${pi.index}`, description: `camera libcamera:${pi.index} (${pi.sensor}; found, ${NOT_GIVEN})` };
  const usb = v4l2.cameras[0];
  if (usb) {
    // A Pi camera looked for and not found is worth saying only when its listing failed.
    const aside = libcamera !== null && libcamera.problem !== null ? `; ${piProblem}` : "";
    return { source: usb.device, description: `camera ${usb.device} (${usb.name || "no name"}; found, ${NOT_GIVEN}${aside})` };
  }
  const skipped = v4l2.notCameras.length;
  const v4l2Problem = skipped > 0 ? `no V4L2 camera (${skipped} node${skipped > 1 ? "s" : ""}, none a camera)` : "no V4L2 camera";
  return { source: "testsrc", description: `test pattern (no camera found: ${piProblem}, ${v4l2Problem}; ${NOT_GIVEN})` };
}

function libcameraProblem(rpicam: string | null, listing: LibcameraListing | null): string {
  if (rpicam === null || listing === null) return "no rpicam-vid";
  return listing.problem ?? "no libcamera camera";
}

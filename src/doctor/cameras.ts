/**
 * The cameras, as `glasscast devices` lists them (devices/list.ts), and the
 * --source cameras checked against them.
 */
import { realpathSync } from "node:fs";
import type { DeviceListing } from "../devices/list.ts";
import type { V4l2Format } from "../devices/v4l2-format.ts";
import type { StreamSource } from "../config/stream-sources.ts";
import { finding, type Finding } from "./finding.ts";
import type { Machine } from "./machine.ts";

export const JOIN_VIDEO_GROUP = "sudo usermod -aG video $USER (then log in again)";
/** Raspberry Pi OS finds a Pi camera at boot by itself (camera_auto_detect=1); raspi-config's camera option is the legacy stack's, which breaks libcamera. */
export const PI_CAMERA_FIX =
  "check the camera's ribbon cable, and that /boot/firmware/config.txt has camera_auto_detect=1 (or dtoverlay=SENSOR for a camera it does not detect), then sudo reboot";

export function camerasFinding(listing: DeviceListing, machine: Machine, rpicamFound: boolean): Finding {
  const v4l2 = listing.v4l2.cameras.map((c) => `${c.device} (${c.name || "no name"}${formatsText(c.formats)})`);
  const libcamera = listing.libcamera.cameras.map((c) => `${c.source} (${c.sensor})`);
  const problems = [
    ...(listing.v4l2.problem !== null ? [listing.v4l2.problem] : []),
    ...(listing.libcamera.problem !== null && rpicamFound ? [`libcamera: ${listing.libcamera.problem}`] : []),
    ...listing.v4l2.cameras.filter((c) => c.error !== null).map((c) => `${c.device}: ${c.error}`),
  ];
  const detail = problems.length > 0 ? problems.join("; ") : null;
  const all = [...v4l2, ...libcamera];
  if (listing.v4l2.cameras.some((c) => c.error !== null && /Permission denied/.test(c.error))) {
    return finding("cameras", "warn", `cameras: ${all.join(", ")}; some cannot be opened by this user`, detail, JOIN_VIDEO_GROUP);
  }
  if (all.length > 0) return finding("cameras", "ok", `cameras: ${all.join(", ")}`, detail);
  // A Pi with rpicam-apps whose libcamera sees nothing: the cable or the boot configuration.
  const piCamera = machine.board !== "other" && rpicamFound && listing.libcamera.problem === null;
  const fix = piCamera ? PI_CAMERA_FIX : "plug in a camera (a USB webcam, or a Raspberry Pi camera on a Pi), then: glasscast devices";
  const where = listing.v4l2.sysfsFound ? "" : " (no V4L2 driver loaded)";
  return finding("cameras", "warn", `cameras: none found${where}; glasscast can still serve files, URLs and the test pattern`, detail, fix);
}

function formatsText(formats: readonly V4l2Format[]): string {
  const names = formats.map((f) => f.ffmpegName).filter((n): n is string => n !== null);
  return names.length > 0 ? `: ${[...new Set(names)].join(", ")}` : "";
}

/** Each --source that is a camera, found among the listed ones or not; none when no --source is a camera. */
export function sourceFindings(sources: readonly StreamSource[], listing: DeviceListing, fixFor: { libcamera: string | null }): Finding[] {
  const out: Finding[] = [];
  for (const { name, spec } of sources) {
    const id = `source-${name}`;
    if (spec.kind === "v4l2") {
      const device = resolved(spec.device);
      const camera = listing.v4l2.cameras.find((c) => c.device === spec.device || c.device === device);
      if (camera) out.push(finding(id, "ok", `--source ${spec.device}: ${camera.name || "a V4L2 camera"}`));
      else {
        const other = listing.v4l2.notCameras.find((n) => n.device === spec.device || n.device === device);
        out.push(
          finding(
            id,
            "fail",
            `--source ${spec.device}: ${other ? `not a camera (${other.reason})` : "no such camera now"}`,
            other ? null : "glasscast waits for it and shows NO SIGNAL until it is plugged in",
            "glasscast devices (lists the cameras and the --source of each)",
          ),
        );
      }
    } else if (spec.kind === "libcamera") {
      const camera = listing.libcamera.cameras.find((c) => c.index === spec.camera);
      if (camera) out.push(finding(id, "ok", `--source libcamera:${spec.camera}: ${camera.sensor}`));
      else {
        out.push(
          finding(
            id,
            "fail",
            `--source libcamera:${spec.camera}: no such camera${listing.libcamera.problem !== null ? ` (${listing.libcamera.problem})` : ""}`,
            null,
            fixFor.libcamera ?? "glasscast devices (lists the cameras and the --source of each)",
          ),
        );
      }
    }
  }
  return out;
}

function resolved(device: string): string {
  try {
    return realpathSync(device);
  } catch {
    return device;
  }
}

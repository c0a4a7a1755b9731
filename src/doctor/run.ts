/**
 * `glasscast doctor`: every check, in the order a reader fixes things (the
 * machine, the programs and libraries, the cameras, then what needs them:
 * the encoder's speed and the port). Checks report; none throws.
 */
import { availableParallelism } from "node:os";
import type { Options } from "../config/options.ts";
import { streamSources, StreamSourceError, type StreamSource } from "../config/stream-sources.ts";
import { h264Wanted } from "../config/validate.ts";
import { listDevices } from "../devices/list.ts";
import { findRpicam } from "../sources/libcamera/find-rpicam.ts";
import { camerasFinding, PI_CAMERA_FIX, sourceFindings } from "./cameras.ts";
import { measureEncoder, speedFinding, type SpeedRequest } from "./encoder-speed.ts";
import { encoderFindings, ffmpegFinding, probeFfmpeg } from "./ffmpeg.ts";
import { finding, type Finding } from "./finding.ts";
import { powerFinding, temperatureFinding } from "./health.ts";
import { probeTurboJpeg, turboJpegFinding } from "./jpeg.ts";
import { boardFinding, cpuFinding, kernelFinding, memoryFinding, osFinding, osReleaseValue, readMachine } from "./machine.ts";
import { portFinding } from "./port.ts";
import { rpicamFinding, rpicamPackage, setprivFinding } from "./programs.ts";
import { systemRoot, type SystemRoot } from "./root.ts";

/** The size and rate the encoder is measured at when --width, --height and --fps are not given. */
export const DEFAULT_TEST = { width: 1280, height: 720, fps: 30 } as const;
export const DEFAULT_SECONDS = 3;

export interface DoctorRequest {
  readonly options: Options;
  /** How long the encoder is measured. */
  readonly seconds: number;
}

export async function runDoctor(req: DoctorRequest, sys: SystemRoot = systemRoot()): Promise<Finding[]> {
  const o = req.options;
  const machine = readMachine(sys);
  const codename = osReleaseValue(sys.read("/etc/os-release") ?? "", "VERSION_CODENAME");
  const findings: Finding[] = [boardFinding(sys, machine), osFinding(sys), kernelFinding(sys, machine), cpuFinding(sys), memoryFinding(sys)];
  for (const f of [temperatureFinding(sys), powerFinding(sys, machine)]) if (f !== null) findings.push(f);

  let sources: StreamSource[] = [];
  try {
    sources = streamSources(o.source);
  } catch (err) {
    if (!(err instanceof StreamSourceError)) throw err;
    findings.push(finding("sources", "fail", `--source: ${err.message}`, null, "glasscast devices (lists the cameras and the --source of each)"));
  }

  const [ffmpeg, listing] = await Promise.all([probeFfmpeg(o.ffmpeg), listDevices({ ffmpeg: o.ffmpeg, rpicam: o.rpicam, sysfs: sys.v4l2Sysfs })]);
  const turbo = probeTurboJpeg();
  const wanted = h264Wanted(o);
  const hardwareH264 = listing.v4l2.notCameras.some((n) => n.name === "bcm2835-codec-encode");
  const encoders = encoderFindings(ffmpeg, { h264: wanted, h264Encoder: o.h264Encoder, mjpegFallback: !turbo.loaded || turbo.problem !== null, hardwareH264 });
  findings.push(ffmpegFinding(ffmpeg), ...encoders, turboJpegFinding(turbo), setprivFinding());

  const rpicamFound = findRpicam(o.rpicam) !== null;
  findings.push(
    rpicamFinding(
      o.rpicam,
      machine,
      codename,
      sources.some((s) => s.spec.kind === "libcamera"),
    ),
  );
  findings.push(camerasFinding(listing, machine, rpicamFound));
  const libcameraFix = !rpicamFound ? `sudo apt install ${rpicamPackage(codename)}` : machine.board !== "other" ? PI_CAMERA_FIX : null;
  findings.push(...sourceFindings(sources, listing, { libcamera: libcameraFix }));

  findings.push(await speed(req, wanted, ffmpeg.path, encoders, machine));
  findings.push(portFinding(o.host, o.port));
  return findings;
}

async function speed(
  req: DoctorRequest,
  wanted: boolean,
  ffmpeg: string | null,
  encoders: readonly Finding[],
  machine: ReturnType<typeof readMachine>,
): Promise<Finding> {
  const o = req.options;
  if (!wanted) return finding("h264-speed", "ok", "H.264 encoder: not used (--no-webrtc, --rtsp-port 0 and no --publish), not measured");
  const chosen = encoders.find((f) => f.id === `encoder-${o.h264Encoder}`);
  if (ffmpeg === null || chosen === undefined || chosen.status === "fail") {
    return finding("h264-speed", "warn", `H.264 encoder: not measured (${ffmpeg === null ? "no ffmpeg" : `${o.h264Encoder} cannot be used`}; see above)`);
  }
  const test: SpeedRequest = {
    ffmpeg,
    seconds: req.seconds,
    width: o.width ?? DEFAULT_TEST.width,
    height: o.height ?? DEFAULT_TEST.height,
    fps: o.fps ?? DEFAULT_TEST.fps,
    settings: { encoder: o.h264Encoder, bitrateKbps: o.h264Bitrate, keyint: o.h264Keyint },
  };
  const outcome = await measureEncoder(test).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  return speedFinding(test, outcome, machine, availableParallelism());
}

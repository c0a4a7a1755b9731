/**
 * Finds the cameras on this machine for `glasscast devices`: the V4L2 nodes
 * named in sysfs, each with its formats (from v4l2-ctl when installed, else
 * from ffmpeg's -list_formats), with the Raspberry Pi's codec, ISP and
 * metadata nodes set apart as "not cameras"; and the libcamera cameras that
 * rpicam-hello (libcamera-hello on older systems) lists. A missing tool is
 * reported in the listing, not thrown; every program run has a time limit.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { probeV4l2Formats } from "./ffmpeg-list-formats.ts";
import { parseRpicamCameras, type LibcameraCamera } from "./rpicam.ts";
import { lastLine, runTool } from "./run-tool.ts";
import { parseV4l2CtlFormats } from "./v4l2-ctl.ts";
import type { V4l2Format } from "./v4l2-format.ts";
import { listAlsa, type AlsaListing } from "./alsa.ts";

export const DEFAULT_SYSFS = "/sys/class/video4linux";

export interface DeviceListOptions {
  /** Where the V4L2 nodes are named (a test gives a folder of its own). */
  readonly sysfs?: string;
  /** The v4l2-ctl program (v4l-utils), which lists formats with their frame rates; from PATH by default. */
  readonly v4l2ctl?: string;
  /** The ffmpeg program, used for formats when v4l2-ctl is not installed. */
  readonly ffmpeg?: string;
  /** The rpicam-vid (or libcamera-vid) program the user gave: rpicam-hello is looked for beside it first. */
  readonly rpicam?: string | null;
  /** Time limit for each v4l2-ctl or ffmpeg run. */
  readonly timeoutMs?: number;
  /** Time limit for rpicam-hello, which configures every mode of every camera. */
  readonly rpicamTimeoutMs?: number;
  /** Where ALSA lists its devices (/proc/asound; a test gives a folder of its own). */
  readonly asound?: string;
}

/** A program that was run, and where it was found. */
export interface ToolUsed {
  readonly name: string;
  readonly path: string;
}

export interface V4l2Camera {
  readonly device: string;
  /** The driver's name for it (for a USB camera, the product name). */
  readonly name: string;
  /** What to give glasscast: --source DEVICE. */
  readonly source: string;
  readonly formats: readonly V4l2Format[];
  /** Why the formats could not be read, else null. */
  readonly error: string | null;
}

export type NotCameraKind = "libcamera" | "isp" | "codec" | "metadata" | "multiplanar" | "not-capture";

export interface V4l2NotCamera {
  readonly device: string;
  readonly name: string;
  /** "libcamera": the node belongs to a libcamera camera (use that camera as libcamera:N). */
  readonly kind: NotCameraKind;
  readonly reason: string;
}

export interface LibcameraDevice extends LibcameraCamera {
  /** What to give glasscast: --source libcamera:N. */
  readonly source: string;
}

export interface DeviceListing {
  readonly v4l2: {
    readonly sysfs: string;
    /** False when the sysfs folder does not exist (no V4L2 driver loaded). */
    readonly sysfsFound: boolean;
    /** The program that listed the formats; null when neither v4l2-ctl nor ffmpeg was found. */
    readonly formatsFrom: ToolUsed | null;
    /** Why formats are missing for every camera (no tool), else null. */
    readonly problem: string | null;
    readonly cameras: readonly V4l2Camera[];
    readonly notCameras: readonly V4l2NotCamera[];
  };
  readonly libcamera: {
    readonly tool: ToolUsed | null;
    /** rpicam-hello missing, failed or unreadable; null when it listed (even no camera). */
    readonly problem: string | null;
    readonly cameras: readonly LibcameraDevice[];
  };
  /** The microphones (ALSA capture devices), for --audio. */
  readonly alsa?: AlsaListing;
}

export async function listDevices(options: DeviceListOptions = {}): Promise<DeviceListing> {
  const sysfs = options.sysfs ?? DEFAULT_SYSFS;
  const [v4l2, libcamera] = await Promise.all([
    listV4l2(sysfs, options.v4l2ctl ?? "v4l2-ctl", options.ffmpeg ?? "ffmpeg", options.timeoutMs ?? 5000),
    listLibcamera(options.rpicam ?? null, options.rpicamTimeoutMs ?? 20_000),
  ]);
  return { v4l2, libcamera, alsa: listAlsa(options.asound) };
}

/** The nodes that are known not to be cameras, by the name their driver gives them. */
export function classifyNodeName(name: string): { kind: NotCameraKind; reason: string } | null {
  if (/^unicam-embedded/.test(name)) {
    return { kind: "libcamera", reason: "sensor metadata of a libcamera camera (unicam): use that camera as libcamera:N" };
  }
  if (/^unicam/.test(name)) {
    return { kind: "libcamera", reason: "the CSI-2 receiver (unicam) of a libcamera camera: use that camera as libcamera:N" };
  }
  if (/^rp1-cfe/.test(name)) {
    return { kind: "libcamera", reason: "part of the Pi 5's camera front end (rp1-cfe) of a libcamera camera: use that camera as libcamera:N" };
  }
  if (/^bcm2835-isp|^pispbe/.test(name)) return { kind: "isp", reason: "the Pi's ISP, used by libcamera; not a camera" };
  if (/^bcm2835-codec/.test(name)) return { kind: "codec", reason: "the Pi's hardware video codec (h264_v4l2m2m and friends); not a camera" };
  if (/^rpi-hevc-dec|^rpivid/.test(name)) return { kind: "codec", reason: "the Pi's HEVC decoder; not a camera" };
  return null;
}

export type V4l2Listing = DeviceListing["v4l2"];

/** The V4L2 nodes named in `sysfs`, cameras (with their formats) set apart from the rest. */
export async function listV4l2(sysfs: string, v4l2ctlProgram: string, ffmpeg: string, timeoutMs: number): Promise<V4l2Listing> {
  const nodes = readNodes(sysfs);
  const v4l2ctl = Bun.which(v4l2ctlProgram);
  const ffmpegPath = v4l2ctl === null ? Bun.which(ffmpeg) : null;
  const formatsFrom: ToolUsed | null =
    v4l2ctl !== null ? { name: "v4l2-ctl", path: v4l2ctl } : ffmpegPath !== null ? { name: "ffmpeg", path: ffmpegPath } : null;
  const problem =
    formatsFrom === null ? `formats not listed: neither v4l2-ctl nor ffmpeg (${JSON.stringify(ffmpeg)}) was found (sudo apt install v4l-utils)` : null;
  const cameras: V4l2Camera[] = [];
  const notCameras: V4l2NotCamera[] = [];
  const results = await Promise.all(
    nodes.map(async ({ device, name }): Promise<{ camera?: V4l2Camera; notCamera?: V4l2NotCamera }> => {
      const known = classifyNodeName(name);
      if (known) return { notCamera: { device, name, ...known } };
      if (formatsFrom === null) return { camera: { device, name, source: device, formats: [], error: null } };
      const read =
        formatsFrom.name === "v4l2-ctl"
          ? await formatsByV4l2Ctl(formatsFrom.path, device, timeoutMs)
          : await formatsByFfmpeg(formatsFrom.path, device, timeoutMs);
      if ("kind" in read) return { notCamera: { device, name, kind: read.kind, reason: read.reason } };
      return { camera: { device, name, source: device, formats: read.formats, error: read.error } };
    }),
  );
  for (const r of results) {
    if (r.camera) cameras.push(r.camera);
    if (r.notCamera) notCameras.push(r.notCamera);
  }
  return { sysfs, sysfsFound: nodes !== NO_SYSFS, formatsFrom, problem, cameras, notCameras };
}

const NO_SYSFS: { device: string; name: string }[] = [];

/** /sys/class/video4linux/videoN/name, in N's order. */
function readNodes(sysfs: string): { device: string; name: string }[] {
  let entries: string[];
  try {
    entries = readdirSync(sysfs);
  } catch {
    return NO_SYSFS;
  }
  return entries
    .filter((e) => /^video\d+$/.test(e))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((e) => {
      let name = "";
      try {
        name = readFileSync(join(sysfs, e, "name"), "utf8").trim();
      } catch {
        // A node without a name file is still listed, under its device path.
      }
      return { device: `/dev/${e}`, name };
    });
}

type NodeFormats = { formats: V4l2Format[]; error: string | null } | { kind: NotCameraKind; reason: string };

const NO_CAPTURE: NodeFormats = { kind: "metadata", reason: "no video capture formats (a metadata or output node)" };

async function formatsByV4l2Ctl(v4l2ctl: string, device: string, timeoutMs: number): Promise<NodeFormats> {
  try {
    const { code, stdout, stderr } = await runTool([v4l2ctl, "--list-formats-ext", "-d", device], timeoutMs);
    if (code !== 0) return { formats: [], error: withHint(lastLine(stderr) ?? `v4l2-ctl exited with status ${code}`) };
    const listing = parseV4l2CtlFormats(stdout);
    if (listing.formats.length === 0) return NO_CAPTURE;
    if (listing.multiplanar) {
      return { kind: "multiplanar", reason: "a multi-planar capture node, which ffmpeg's v4l2 input cannot open" };
    }
    return { formats: [...listing.formats], error: null };
  } catch (err) {
    return { formats: [], error: `v4l2-ctl: ${(err as Error).message}` };
  }
}

async function formatsByFfmpeg(ffmpeg: string, device: string, timeoutMs: number): Promise<NodeFormats> {
  try {
    const formats = await probeV4l2Formats(ffmpeg, device, timeoutMs);
    return formats.length === 0 ? NO_CAPTURE : { formats, error: null };
  } catch (err) {
    const message = (err as Error).message;
    // ffmpeg's v4l2 input answers ENODEV for a node without single-planar video capture.
    if (/No such device$/.test(message)) return { kind: "not-capture", reason: `not a video capture device (ffmpeg: ${message})` };
    return { formats: [], error: withHint(message) };
  }
}

function withHint(message: string): string {
  return /Permission denied/.test(message) ? `${message} (is this user in the video group? sudo usermod -aG video $USER)` : message;
}

export type LibcameraListing = DeviceListing["libcamera"];

/** rpicam-hello (or libcamera-hello): beside the --rpicam program first, then on PATH. */
export function findRpicamHello(rpicam: string | null): ToolUsed | { missing: string } {
  const legacy = rpicam !== null && basename(rpicam).startsWith("libcamera");
  const names = legacy ? ["libcamera-hello", "rpicam-hello"] : ["rpicam-hello", "libcamera-hello"];
  const given = rpicam === null ? null : rpicam.includes("/") ? rpicam : Bun.which(rpicam);
  if (given !== null) {
    for (const name of names) {
      const path = Bun.which(name, { PATH: dirname(given) });
      if (path !== null) return { name, path };
    }
  }
  for (const name of names) {
    const path = Bun.which(name);
    if (path !== null) return { name, path };
  }
  const where = given !== null ? ` beside ${given} nor on PATH` : "";
  const install = legacy ? "sudo apt install libcamera-apps" : "sudo apt install rpicam-apps";
  return { missing: `${names[0]} not found${where} (Raspberry Pi OS: ${install})` };
}

async function listLibcamera(rpicam: string | null, timeoutMs: number): Promise<LibcameraListing> {
  const found = findRpicamHello(rpicam);
  if ("missing" in found) return { tool: null, problem: found.missing, cameras: [] };
  return listCamerasWith(found, timeoutMs);
}

/** `TOOL --list-cameras` (any rpicam app: rpicam-hello, rpicam-vid…), read within a time limit. */
export async function listCamerasWith(found: ToolUsed, timeoutMs: number): Promise<LibcameraListing> {
  let result;
  try {
    result = await runTool([found.path, "--list-cameras"], timeoutMs);
  } catch (err) {
    return { tool: found, problem: `${found.name}: ${(err as Error).message}`, cameras: [] };
  }
  try {
    const cameras = parseRpicamCameras(result.stdout).map((c) => ({ ...c, source: `libcamera:${c.index}` }));
    return { tool: found, problem: null, cameras };
  } catch (err) {
    const why = result.code !== 0 ? (lastLine(result.stderr) ?? `exited with status ${result.code}`) : (err as Error).message;
    return { tool: found, problem: `${found.name} --list-cameras failed: ${why}`, cameras: [] };
  }
}

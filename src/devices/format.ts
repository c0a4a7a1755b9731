/**
 * `glasscast devices` as people read it: each camera with the --source that
 * selects it, then one line per format with its sizes grouped by their
 * highest frame rate; the nodes that are not cameras, and why; the libcamera
 * cameras with their modes. A missing tool is one line saying what to install.
 */
import type { DeviceListing, LibcameraDevice, V4l2Camera } from "./list.ts";
import type { FrameSize, SizeRange, V4l2Format } from "./v4l2-format.ts";

export function formatListing(listing: DeviceListing): string {
  return [...v4l2Section(listing.v4l2), ...(listing.alsa ? alsaSection(listing.alsa) : []), ...libcameraSection(listing.libcamera)].join("\n") + "\n";
}

function alsaSection(alsa: NonNullable<DeviceListing["alsa"]>): string[] {
  const lines = ["ALSA capture devices (microphones)"];
  if (alsa.devices.length === 0) lines.push(`  no ALSA capture devices found${alsa.found ? "" : ` (no ${alsa.asound}: no sound driver is loaded)`}`);
  for (const d of alsa.devices) lines.push(`  ${d.audio}  ${d.name}  (use: --audio ${d.audio}, or --audio plughw:${d.card},${d.device} to let ALSA convert)`);
  return lines;
}

function v4l2Section(v4l2: DeviceListing["v4l2"]): string[] {
  const from =
    v4l2.formatsFrom === null
      ? v4l2.problem
      : v4l2.formatsFrom.name === "ffmpeg"
        ? "formats from ffmpeg; install v4l-utils to see frame rates"
        : `formats from ${v4l2.formatsFrom.name}`;
  const lines = [`V4L2 cameras${from && v4l2.cameras.length > 0 ? ` (${from})` : ""}`];
  if (v4l2.cameras.length === 0) {
    lines.push(`  no V4L2 cameras found${v4l2.sysfsFound ? "" : ` (no ${v4l2.sysfs}: no V4L2 driver is loaded)`}`);
  }
  for (const camera of v4l2.cameras) lines.push(...cameraLines(camera));
  if (v4l2.notCameras.length > 0) {
    lines.push("V4L2 nodes that are not cameras");
    const deviceWidth = Math.max(...v4l2.notCameras.map((n) => n.device.length));
    const nameWidth = Math.max(...v4l2.notCameras.map((n) => n.name.length));
    for (const n of v4l2.notCameras) lines.push(`  ${n.device.padEnd(deviceWidth)}  ${n.name.padEnd(nameWidth)}  ${n.reason}`);
  }
  return lines;
}

function cameraLines(camera: V4l2Camera): string[] {
  const lines = [`  ${camera.device}  ${camera.name || "(no name)"}  (use: --source ${camera.source})`];
  if (camera.error !== null) lines.push(`    cannot read its formats: ${camera.error}`);
  const nameWidth = Math.max(0, ...camera.formats.map((f) => formatName(f).length));
  const descriptionWidth = Math.max(0, ...camera.formats.map((f) => f.description.length));
  for (const f of camera.formats) {
    const notes = [...(f.ffmpegName === null ? ["ffmpeg cannot capture this format"] : []), ...(f.emulated ? ["converted by libv4l"] : [])];
    const tail = notes.length > 0 ? `  [${notes.join("; ")}]` : "";
    lines.push(`    ${formatName(f).padEnd(nameWidth)}  ${f.description.padEnd(descriptionWidth)}  ${sizesText(f)}${tail}`);
  }
  return lines;
}

function formatName(f: V4l2Format): string {
  return f.ffmpegName ?? (f.fourcc !== undefined ? `'${f.fourcc}'` : "-");
}

function sizesText(f: V4l2Format): string {
  if (f.sizeRange) return rangeText(f.sizeRange);
  if (f.sizes.length === 0) return "(no sizes listed)";
  // Sizes grouped by their highest rate, fastest group first, largest size first in each.
  const groups = new Map<number, FrameSize[]>();
  for (const size of f.sizes) {
    const rate = size.fps?.[0] ?? size.fpsRange?.max ?? 0;
    groups.set(rate, [...(groups.get(rate) ?? []), size]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => b - a)
    .map(([rate, sizes]) => {
      const list = [...sizes].sort((a, b) => b.width * b.height - a.width * a.height).map((s) => `${s.width}x${s.height}`);
      return rate > 0 ? `${list.join(" ")} @ ${fpsText(rate)} fps` : list.join(" ");
    })
    .join("; ");
}

function rangeText(r: SizeRange): string {
  const step = r.stepWidth > 1 || r.stepHeight > 1 ? ` in steps of ${r.stepWidth}/${r.stepHeight}` : "";
  return `any size from ${r.minWidth}x${r.minHeight} to ${r.maxWidth}x${r.maxHeight}${step}`;
}

/** 120.13 → "120", 7.5 → "7.5". */
export function fpsText(fps: number): string {
  return fps >= 10 ? String(Math.round(fps)) : String(Math.round(fps * 10) / 10);
}

function libcameraSection(libcamera: DeviceListing["libcamera"]): string[] {
  if (libcamera.problem !== null) return [`libcamera: ${libcamera.problem}`];
  const lines = [`libcamera cameras${libcamera.tool ? ` (from ${libcamera.tool.name})` : ""}`];
  if (libcamera.cameras.length === 0) lines.push("  no libcamera cameras found");
  for (const camera of libcamera.cameras) lines.push(...libcameraLines(camera));
  return lines;
}

function libcameraLines(camera: LibcameraDevice): string[] {
  const size = camera.width !== null && camera.height !== null ? ` ${camera.width}x${camera.height}` : "";
  const depth = camera.bitDepth !== null ? ` ${camera.bitDepth}-bit` : "";
  const filter = camera.colorFilter !== null ? ` ${camera.colorFilter}` : "";
  // A size offered at several bit depths is one choice for the user: keep its fastest rate.
  const best = new Map<string, number | null>();
  for (const mode of camera.modes) {
    const key = `${mode.width}x${mode.height}`;
    const seen = best.get(key);
    if (seen === undefined || (mode.fps !== null && (seen === null || mode.fps > seen))) best.set(key, mode.fps);
  }
  const modes = [...best.entries()].map(([key, fps]) => (fps === null ? key : `${key} up to ${fpsText(fps)} fps`));
  return [
    `  ${camera.source}  ${camera.sensor}${size}${depth}${filter}  (use: --source ${camera.source})`,
    `    ${modes.length > 0 ? modes.join(", ") : "(no modes listed)"}`,
  ];
}

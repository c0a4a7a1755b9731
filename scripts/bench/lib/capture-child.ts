/**
 * What the server's capture child does with a camera's JPEGs, read from its
 * command line: copies them (`-c:v copy`, passthrough) or decodes them to raw
 * pictures (y4m or rawvideo out) for the server to encode.
 */
import { cmdline, type ProcStat } from "./proc-stats.ts";

export type CaptureMode = "copy" | "decode" | "unknown";

export interface CaptureDescription {
  mode: CaptureMode;
  /** For the report, e.g. "ffmpeg copies the JPEGs (`-c:v copy`)". */
  text: string;
}

export function captureMode(command: string): CaptureMode {
  if (/(^|\s)-(c:v|vcodec|codec:v|c)\s+copy(\s|$)/.test(command)) return "copy";
  if (/(^|\s)-f\s+(yuv4mpegpipe|rawvideo)(\s|$)/.test(command)) return "decode";
  return "unknown";
}

/** Describes the ffmpeg children among the server's child processes (all of one mode, or says they differ). */
export function describeCapture(children: ProcStat[]): CaptureDescription {
  const ffmpegs = children.filter((s) => s.comm === "ffmpeg");
  if (ffmpegs.length === 0) return { mode: "unknown", text: "no ffmpeg child found" };
  const modes = new Set(ffmpegs.map((s) => captureMode(cmdline(s.pid))));
  if (modes.size > 1) return { mode: "unknown", text: `${ffmpegs.length} ffmpeg children doing different things` };
  const mode = [...modes][0]!;
  const text =
    mode === "copy"
      ? "ffmpeg copies the JPEGs (`-c:v copy`)"
      : mode === "decode"
        ? "ffmpeg decodes them to raw pictures"
        : "ffmpeg, neither copying nor decoding to raw pictures";
  return { mode, text: ffmpegs.length > 1 ? `${text} (${ffmpegs.length} processes)` : text };
}

/** The children that are not ffmpeg (their CPU is counted with the capture's), or null when there are none. */
export function otherChildren(children: ProcStat[]): string | null {
  const others = children.filter((s) => s.comm !== "ffmpeg");
  return others.length ? `child processes besides ffmpeg, counted as capture: ${others.map((s) => `${s.comm} (pid ${s.pid})`).join(", ")}` : null;
}

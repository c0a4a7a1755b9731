/**
 * ffmpeg: found or not, its version, and the encoders glasscast asks it for
 * (`ffmpeg -encoders`): libx264 or h264_v4l2m2m for WebRTC's H.264, and
 * mjpeg for JPEGs when libturbojpeg is missing.
 */
import { lastLine, runTool } from "../devices/run-tool.ts";
import type { H264EncoderName } from "../encoders/h264-ffmpeg.ts";
import { finding, type Finding } from "./finding.ts";

export const INSTALL_FFMPEG = "sudo apt install ffmpeg";

export interface FfmpegInfo {
  /** The program as given with --ffmpeg. */
  readonly given: string;
  /** Where it was found, or null. */
  readonly path: string | null;
  /** "5.1.6-0+deb12u1", or null when it did not say. */
  readonly version: string | null;
  /** Why it cannot be used, or null. */
  readonly problem: string | null;
  /** The names `ffmpeg -encoders` lists (empty when it could not be asked). */
  readonly encoders: ReadonlySet<string>;
}

const TIMEOUT_MS = 10_000;

export async function probeFfmpeg(given: string): Promise<FfmpegInfo> {
  const path = Bun.which(given);
  const none = new Set<string>();
  if (path === null) return { given, path, version: null, problem: `${JSON.stringify(given)} was not found`, encoders: none };
  try {
    const v = await runTool([path, "-hide_banner", "-version"], TIMEOUT_MS);
    if (v.code !== 0)
      return { given, path, version: null, problem: `${path} -version failed: ${lastLine(v.stderr) ?? `exit status ${v.code}`}`, encoders: none };
    const version = /^ffmpeg version (\S+)/m.exec(v.stdout)?.[1] ?? null;
    const e = await runTool([path, "-hide_banner", "-encoders"], TIMEOUT_MS);
    if (e.code !== 0) return { given, path, version, problem: `${path} -encoders failed: ${lastLine(e.stderr) ?? `exit status ${e.code}`}`, encoders: none };
    return { given, path, version, problem: null, encoders: parseEncoders(e.stdout) };
  } catch (err) {
    return { given, path, version: null, problem: (err as Error).message, encoders: none };
  }
}

/** `ffmpeg -encoders`: " V....D libx264              libx264 H.264 …" → libx264. */
export function parseEncoders(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^ ([VAS][F.][S.][X.][B.][D.]) (\S+)/gm)) names.add(m[2]!);
  return names;
}

export function ffmpegFinding(info: FfmpegInfo): Finding {
  if (info.path === null) {
    const fix = info.given === "ffmpeg" ? INSTALL_FFMPEG : `${INSTALL_FFMPEG}, or give its path with --ffmpeg PATH`;
    return finding(
      "ffmpeg",
      "fail",
      `ffmpeg: not found (${info.given === "ffmpeg" ? "not on PATH" : `--ffmpeg ${info.given}`})`,
      "glasscast runs every capture (files, URLs, USB cameras, the test pattern) and the H.264 encoder in ffmpeg",
      fix,
    );
  }
  if (info.problem !== null) return finding("ffmpeg", "fail", `ffmpeg: ${info.path} does not work`, info.problem, INSTALL_FFMPEG);
  return finding("ffmpeg", "ok", `ffmpeg: ${info.version ?? "version unknown"} (${info.path})`);
}

export interface EncoderNeeds {
  /** H.264 is made at all (WebRTC on, or --publish). */
  readonly h264: boolean;
  /** --h264-encoder. */
  readonly h264Encoder: H264EncoderName;
  /** libturbojpeg is missing: JPEGs come from ffmpeg's mjpeg encoder. */
  readonly mjpegFallback: boolean;
  /** A V4L2 node of the Pi's hardware H.264 encoder (bcm2835-codec-encode) is present. */
  readonly hardwareH264: boolean;
}

/** One finding per encoder glasscast may ask ffmpeg for; none when ffmpeg itself is missing (said once, above). */
export function encoderFindings(info: FfmpegInfo, needs: EncoderNeeds): Finding[] {
  if (info.path === null || info.problem !== null) return [];
  const has = (name: string) => info.encoders.has(name);
  const out: Finding[] = [];

  const x264Needed = needs.h264 && needs.h264Encoder === "libx264";
  if (has("libx264")) out.push(finding("encoder-libx264", "ok", `libx264: in ffmpeg${x264Needed ? " (WebRTC's H.264 encoder)" : ""}`));
  else {
    out.push(
      finding(
        "encoder-libx264",
        x264Needed ? "fail" : "ok",
        `libx264: not in this ffmpeg${x264Needed ? "" : " (not used: --h264-encoder is not libx264, or WebRTC is off)"}`,
        x264Needed ? "WebRTC's H.264 is encoded by libx264 (--h264-encoder libx264)" : null,
        x264Needed ? `${INSTALL_FFMPEG} (Debian's and Raspberry Pi OS's ffmpeg have libx264)` : null,
      ),
    );
  }

  const hw = "h264_v4l2m2m";
  if (needs.h264 && needs.h264Encoder === hw) {
    if (!has(hw))
      out.push(
        finding(`encoder-${hw}`, "fail", `${hw}: not in this ffmpeg, and --h264-encoder asks for it`, null, `${INSTALL_FFMPEG}, or use --h264-encoder libx264`),
      );
    else if (!needs.hardwareH264) {
      out.push(
        finding(
          `encoder-${hw}`,
          "fail",
          `${hw}: no hardware H.264 encoder on this machine, and --h264-encoder asks for it`,
          "no V4L2 node named bcm2835-codec-encode (the Raspberry Pi 4 and earlier have one; the Pi 5 has none)",
          "use --h264-encoder libx264",
        ),
      );
    } else out.push(finding(`encoder-${hw}`, "ok", `${hw}: in ffmpeg, with the Pi's hardware encoder (WebRTC's H.264 encoder)`));
  } else if (has(hw) && needs.hardwareH264) {
    out.push(
      finding(
        `encoder-${hw}`,
        "ok",
        `${hw}: in ffmpeg, and the Pi's hardware encoder is present (not used)`,
        "--h264-encoder h264_v4l2m2m would take H.264 encoding off the CPU",
      ),
    );
  } else {
    out.push(
      finding(
        `encoder-${hw}`,
        "ok",
        `${hw}: ${has(hw) ? "in ffmpeg" : "not in this ffmpeg"}, ${needs.hardwareH264 ? "hardware present" : "no hardware H.264 encoder here"} (not used)`,
      ),
    );
  }

  if (has("mjpeg"))
    out.push(
      finding(
        "encoder-mjpeg",
        "ok",
        `mjpeg: in ffmpeg${needs.mjpegFallback ? " (makes the JPEGs, libturbojpeg being missing)" : " (the JPEG encoder if libturbojpeg goes missing)"}`,
      ),
    );
  else {
    out.push(
      finding(
        "encoder-mjpeg",
        needs.mjpegFallback ? "fail" : "ok",
        `mjpeg: not in this ffmpeg${needs.mjpegFallback ? ", and libturbojpeg is missing: no JPEG encoder" : ""}`,
        null,
        needs.mjpegFallback ? "sudo apt install libturbojpeg0" : null,
      ),
    );
  }
  return out;
}

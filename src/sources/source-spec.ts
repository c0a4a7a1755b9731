/**
 * What a `--source` value means. Classified once at startup, so that a source
 * that can never work (a missing file, a glob that matches nothing, an unknown
 * URL scheme) stops the program with a clear message instead of retrying.
 * A camera is different: one that is unplugged at startup is waited for.
 */
import { existsSync, statSync } from "node:fs";
import { redactUrl, secretsOf } from "../redact.ts";

export type SourceSpec =
  | { readonly kind: "testsrc" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "glob"; readonly pattern: string }
  | { readonly kind: "url"; readonly url: string; readonly scheme: NetworkScheme }
  | { readonly kind: "v4l2"; readonly device: string }
  | { readonly kind: "libcamera"; readonly camera: number }
  /** Fed by a WHIP publisher at POST /whip/NAME (see sources/whip/ingest.ts). */
  | { readonly kind: "whip"; readonly name: string }
  /**
   * Pushed to over RTSP (ANNOUNCE/RECORD) at rtsp://HOST:--rtsp-port/PATH
   * (and at the stream's own name): the RTSP server takes it (see sources/rtsp-push/ingest.ts).
   */
  | { readonly kind: "rtsp-push"; readonly path: string };

export const NETWORK_SCHEMES = ["rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "srt", "udp", "tcp"] as const;
export type NetworkScheme = (typeof NETWORK_SCHEMES)[number];

/** Thrown with a user-facing reason; the caller names the option. */
export class SourceSpecError extends Error {}

const WHIP_NAME = /^[A-Za-z0-9_-]{1,32}$/;
const PUSH_PATH = /^(?=.{1,64}$)[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*$/;
const GLOB_CHARS = /[*?[]/;
/** V4L2 device names: /dev/videoN, or udev's stable /dev/v4l/by-id/… and by-path/… links. */
const V4L2_PATH = /^\/dev\/(video\d+|v4l\/.+)$/;
const MAX_V4L2_INDEX = 255;
const MAX_LIBCAMERA_INDEX = 15;

export function parseSourceSpec(value: string): SourceSpec {
  const v = value.trim();
  if (v === "") throw new SourceSpecError("is empty");
  if (v === "testsrc") return { kind: "testsrc" };
  if (/^\d+$/.test(v)) {
    // A bare index, as vidgear and OpenCV take it: camera N is /dev/videoN.
    const n = Number(v);
    if (n > MAX_V4L2_INDEX) throw new SourceSpecError(`is not a camera index; expected 0 to ${MAX_V4L2_INDEX} (/dev/videoN)`);
    return { kind: "v4l2", device: `/dev/video${n}` };
  }
  const libcamera = /^libcamera:(.*)$/i.exec(v);
  if (libcamera) {
    const n = /^\d+$/.test(libcamera[1]!) ? Number(libcamera[1]) : NaN;
    if (!(n <= MAX_LIBCAMERA_INDEX))
      throw new SourceSpecError(`is not a libcamera camera; expected libcamera:N with N from 0 to ${MAX_LIBCAMERA_INDEX} (see: glasscast devices)`);
    return { kind: "libcamera", camera: n };
  }
  const whip = /^whip:(?!\/\/)(.*)$/i.exec(v);
  if (whip) {
    if (!WHIP_NAME.test(whip[1]!))
      throw new SourceSpecError(
        "is not a WHIP ingest; expected whip:NAME with NAME made of letters, digits, _ and - (up to 32): publishers POST to /whip/NAME",
      );
    return { kind: "whip", name: whip[1]! };
  }
  const push = /^rtsp-push:(?!\/\/)(.*)$/i.exec(v);
  if (push) {
    if (!PUSH_PATH.test(push[1]!))
      throw new SourceSpecError(
        "is not an RTSP push ingest; expected rtsp-push:PATH with PATH made of letters, digits, _, - and / (up to 64, no empty part): encoders push to rtsp://HOST:--rtsp-port/PATH",
      );
    return { kind: "rtsp-push", path: push[1]! };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(v)?.[1]?.toLowerCase();
  if (scheme) {
    if (!(NETWORK_SCHEMES as readonly string[]).includes(scheme)) {
      throw new SourceSpecError(`has an unsupported scheme "${scheme}://"; expected one of ${NETWORK_SCHEMES.map((s) => s + "://").join(", ")}`);
    }
    return { kind: "url", url: v, scheme: scheme as NetworkScheme };
  }
  if (V4L2_PATH.test(v)) {
    // Not there yet is fine (a USB camera plugged in later); something else there is not.
    if (existsSync(v) && !statSync(v).isCharacterDevice()) throw new SourceSpecError("is not a video device");
    return { kind: "v4l2", device: v };
  }
  if (GLOB_CHARS.test(v) && !existsSync(v)) {
    let matches: string[];
    try {
      matches = [...new Bun.Glob(v).scanSync({ onlyFiles: true, absolute: true })];
    } catch {
      matches = []; // its folder is not there (or not readable): Bun's scan throws ENOENT
    }
    if (matches.length === 0) throw new SourceSpecError("is an image-sequence pattern that matches no file");
    return { kind: "glob", pattern: v };
  }
  if (!existsSync(v)) throw new SourceSpecError("is not testsrc, a camera, a URL, a pattern or an existing file");
  const stat = statSync(v);
  if (stat.isCharacterDevice()) return { kind: "v4l2", device: v };
  if (!stat.isFile()) throw new SourceSpecError("is not a regular file");
  return { kind: "file", path: v };
}

/** Finite sources end; live ones (cameras, network streams) are restarted when they stop. */
export function isFinite(spec: SourceSpec): boolean {
  return spec.kind === "file" || spec.kind === "glob";
}

/** Sources that are cameras: --input-format, the rotation and the flips are asked of them. */
export function isCamera(spec: SourceSpec): spec is Extract<SourceSpec, { kind: "v4l2" | "libcamera" }> {
  return spec.kind === "v4l2" || spec.kind === "libcamera";
}

/** What of a source must never be shown: a URL's user, password and query values (see redact.ts). */
export function sourceSecrets(spec: SourceSpec): string[] {
  return spec.kind === "url" ? secretsOf(spec.url) : [];
}

/** A short description for logs, pages, /state and /healthz (a URL's credentials and query values hidden). */
export function describeSource(spec: SourceSpec): string {
  switch (spec.kind) {
    case "testsrc":
      return "test pattern";
    case "file":
      return spec.path;
    case "glob":
      return spec.pattern;
    case "url":
      return redactUrl(spec.url);
    case "v4l2":
      return spec.device;
    case "libcamera":
      return `libcamera:${spec.camera}`;
    case "whip":
      return `WHIP publisher at /whip/${spec.name}`;
    case "rtsp-push":
      return `RTSP push to /${spec.path}`;
  }
}

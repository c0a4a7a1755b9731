/**
 * What a `--source` value means. Classified once at startup, so that a source
 * that can never work (a missing file, a glob that matches nothing, an unknown
 * URL scheme) stops the program with a clear message instead of retrying.
 */
import { existsSync, statSync } from "node:fs";

export type SourceSpec =
  | { readonly kind: "testsrc" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "glob"; readonly pattern: string }
  | { readonly kind: "url"; readonly url: string; readonly scheme: NetworkScheme };

export const NETWORK_SCHEMES = ["rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "srt", "udp", "tcp"] as const;
export type NetworkScheme = (typeof NETWORK_SCHEMES)[number];

/** Thrown with a user-facing reason; the caller names the option. */
export class SourceSpecError extends Error {}

const GLOB_CHARS = /[*?[]/;

export function parseSourceSpec(value: string): SourceSpec {
  const v = value.trim();
  if (v === "" ) throw new SourceSpecError("is empty");
  if (v === "testsrc") return { kind: "testsrc" };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(v)?.[1]?.toLowerCase();
  if (scheme) {
    if (!(NETWORK_SCHEMES as readonly string[]).includes(scheme)) {
      throw new SourceSpecError(`has an unsupported scheme "${scheme}://"; expected one of ${NETWORK_SCHEMES.map((s) => s + "://").join(", ")}`);
    }
    return { kind: "url", url: v, scheme: scheme as NetworkScheme };
  }
  if (GLOB_CHARS.test(v) && !existsSync(v)) {
    const matches = [...new Bun.Glob(v).scanSync({ onlyFiles: true, absolute: true })];
    if (matches.length === 0) throw new SourceSpecError("is an image-sequence pattern that matches no file");
    return { kind: "glob", pattern: v };
  }
  if (!existsSync(v)) throw new SourceSpecError("is not testsrc, a URL, a pattern or an existing file");
  if (!statSync(v).isFile()) throw new SourceSpecError("is not a regular file");
  return { kind: "file", path: v };
}

/** Finite sources end; live ones (cameras, network streams) are restarted when they stop. */
export function isFinite(spec: SourceSpec): boolean {
  return spec.kind === "file" || spec.kind === "glob";
}

/** A short description for logs and pages (URL credentials hidden). */
export function describeSource(spec: SourceSpec): string {
  switch (spec.kind) {
    case "testsrc": return "test pattern";
    case "file": return spec.path;
    case "glob": return spec.pattern;
    case "url": return spec.url.replace(/\/\/[^/@]*@/, "//***@");
  }
}

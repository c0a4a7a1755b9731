/**
 * The first path segments of glasscast's fixed routes and their aliases:
 * --video-endpoint may not start with one (compared without case), or the
 * MJPEG stream would shadow that route (`--video-endpoint healthz` would
 * stream the camera to anyone behind --auth). test/adversarial checks that
 * every route the server registers is covered.
 */
export const RESERVED_ROOTS: readonly string[] = [
  "",
  "healthz",
  "metrics",
  "state",
  "api",
  "static",
  "favicon.ico",
  "offer",
  "close_connection",
  "whep",
  "whip",
  "view",
  "snapshot",
  "snapshot.jpg",
  "stream",
  "hls",
];

/** The reserved root `path` starts with (any case, any leading slashes), or null. */
export function reservedRootOf(path: string): string | null {
  const first = path.replace(/^\/+/, "").split("/")[0]!.toLowerCase();
  return RESERVED_ROOTS.includes(first) ? first : null;
}

/**
 * What an RTSP request URI names: a stream (the path's one segment; none
 * for the first stream), maybe its track ("trackID=0"), and a viewer token
 * from the query. Clients put a relative track control in different places
 * when the URL has a query: ffmpeg (and OpenCV through it) appends it to
 * the whole URL (`/cam?token=T/trackID=0`), GStreamer puts it before the
 * query (`/cam/trackID=0?token=T`); both are read the same.
 */
import { redactUrl } from "../../redact.ts";
import { AUDIO_TRACK_CONTROL, TRACK_CONTROL } from "./sdp.ts";

export interface Target {
  /** The stream's name, or "" for the first stream (rtsp://host:port/). */
  readonly name: string;
  readonly track: boolean;
  /** It names the sound's track (trackID=1) rather than the picture's. */
  readonly audio?: boolean;
  readonly token: string | null;
}

/** The target of `uri`, or null when it is not an rtsp:// URL or an absolute path. */
export function parseTarget(uri: string): Target | null {
  let rest: string;
  const absolute = /^rtsps?:\/\/[^/?#]*(.*)$/i.exec(uri);
  if (absolute) rest = absolute[1]!;
  else if (uri.startsWith("/")) rest = uri;
  else return null;
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  let path = q >= 0 ? rest.slice(0, q) : rest;
  let query = q >= 0 ? rest.slice(q + 1) : "";
  let track = false;
  let audio = false;
  const tail = query.lastIndexOf("/");
  if (tail >= 0) {
    const control = query.slice(tail + 1);
    if (control === TRACK_CONTROL || control === AUDIO_TRACK_CONTROL) track = true;
    if (control === AUDIO_TRACK_CONTROL) audio = true;
    query = query.slice(0, tail);
  }
  let segments: string[];
  try {
    segments = path
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
  if (segments.at(-1) === TRACK_CONTROL || segments.at(-1) === AUDIO_TRACK_CONTROL) {
    track = true;
    audio = segments.at(-1) === AUDIO_TRACK_CONTROL;
    segments = segments.slice(0, -1);
  }
  path = segments.join("/");
  let token: string | null = null;
  try {
    token = new URLSearchParams(query).get("token");
  } catch {
    /* an unreadable query carries no token */
  }
  return { name: path, track, ...(audio ? { audio } : {}), token: token || null };
}

/** The URI without its query (for logs: a token is a secret). */
export function withoutQuery(uri: string): string {
  const q = uri.indexOf("?");
  return q >= 0 ? uri.slice(0, q) : uri;
}

/** The URI as logs show it: its password and token masked (the program's one URL redaction), a bare path without its query. */
export function uriForLog(uri: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) ? redactUrl(uri) : withoutQuery(uri);
}

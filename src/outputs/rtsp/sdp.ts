/**
 * The session description a DESCRIBE answers (RFC 4566, RFC 6184 section 8):
 * one H.264 video track, payload type 96, packetization-mode=1, with the
 * stream's SPS and PPS as sprop-parameter-sets and the profile and level
 * read from the SPS, so a client can set up its decoder before the first
 * packet. Controls: "*" for the whole session; the track's is an absolute
 * URL, the DESCRIBE's own with "/trackID=0" added to its path and its query
 * kept: resolved as a relative reference, "trackID=0" would lose the
 * stream's name (GStreamer resolves it against rtsp://host/NAME as RFC 3986
 * says, giving rtsp://host/trackID=0) and the ?token= query.
 */
import { NAL, nalType, type AccessUnit } from "../../media/h264/annexb.ts";

export const PAYLOAD_TYPE = 96;
export const TRACK_CONTROL = "trackID=0";
/** The sound's track (--audio): Opus (RFC 7587), as the stream's one encoder makes it. */
export const AUDIO_PAYLOAD_TYPE = 97;
export const AUDIO_TRACK_CONTROL = "trackID=1";
/** Constrained baseline 3.1: what glasscast's encoder makes, announced when no SPS has come yet. */
const DEFAULT_PROFILE_LEVEL = "42e01f";

export interface ParameterSets {
  readonly sps: Uint8Array;
  readonly pps: Uint8Array;
}

/** The first SPS and PPS of an access unit, or null when it lacks either. */
export function parameterSetsOf(au: AccessUnit): ParameterSets | null {
  const sps = au.nals.find((n) => nalType(n) === NAL.SPS);
  const pps = au.nals.find((n) => nalType(n) === NAL.PPS);
  return sps && pps && sps.length >= 4 ? { sps, pps } : null;
}

/** profile_idc, the constraint flags and level_idc: SPS bytes 1 to 3, in hex. */
export function profileLevelId(sps: Uint8Array): string {
  return Buffer.from(sps.subarray(1, 4)).toString("hex");
}

/** The track's control URL for a DESCRIBE of `uri` (see above). */
export function trackControl(uri: string, control = TRACK_CONTROL): string {
  const q = uri.indexOf("?");
  const path = (q >= 0 ? uri.slice(0, q) : uri).replace(/\/+$/, "");
  return `${path}/${control}${q >= 0 ? uri.slice(q) : ""}`;
}

/** `audioControl`: the sound's track control when the stream has sound (a second m-line, Opus). */
export function describeSdp(o: {
  address: string;
  name: string;
  sets: ParameterSets | null;
  sessionId: number;
  control: string;
  audioControl?: string | null;
}): string {
  const ip6 = o.address.includes(":");
  const fmtp = ["packetization-mode=1", `profile-level-id=${o.sets ? profileLevelId(o.sets.sps) : DEFAULT_PROFILE_LEVEL}`];
  if (o.sets) fmtp.push(`sprop-parameter-sets=${Buffer.from(o.sets.sps).toString("base64")},${Buffer.from(o.sets.pps).toString("base64")}`);
  return [
    "v=0",
    `o=- ${o.sessionId} 1 IN ${ip6 ? "IP6" : "IP4"} ${o.address}`,
    `s=${o.name}`,
    `c=IN ${ip6 ? "IP6 ::" : "IP4 0.0.0.0"}`,
    "t=0 0",
    "a=tool:glasscast",
    "a=range:npt=0-",
    "a=control:*",
    `m=video 0 RTP/AVP ${PAYLOAD_TYPE}`,
    `a=rtpmap:${PAYLOAD_TYPE} H264/90000`,
    `a=fmtp:${PAYLOAD_TYPE} ${fmtp.join(";")}`,
    `a=control:${o.control}`,
    ...(o.audioControl
      ? [
          `m=audio 0 RTP/AVP ${AUDIO_PAYLOAD_TYPE}`,
          `a=rtpmap:${AUDIO_PAYLOAD_TYPE} opus/48000/2`,
          `a=fmtp:${AUDIO_PAYLOAD_TYPE} sprop-stereo=0`,
          `a=control:${o.audioControl}`,
        ]
      : []),
    "",
  ].join("\r\n");
}

/**
 * What an RTSP publisher's ANNOUNCE says (its SDP, RFC 4566): the media
 * sections, each with its payload type, codec and control URL, and which of
 * them is the H.264 video this server takes (RFC 6184), with the SPS and PPS
 * of its sprop-parameter-sets. A section glasscast does not take (audio, a
 * second video) may still be set up by the publisher; its packets are
 * dropped.
 */
import { IngestOfferError } from "../ingest/pushed-ingest.ts";
import { spropParameterSets } from "../whip/depacketize.ts";

/** An SDP whose video is not H.264: RTSP 415. */
export class AnnouncedCodecError extends IngestOfferError {}

export interface AnnouncedMedia {
  readonly kind: string;
  /** Its a=control (a relative or absolute URL), or null when it has none. */
  readonly control: string | null;
}

export interface Announcement {
  readonly media: readonly AnnouncedMedia[];
  /** Index in `media` of the H.264 video. */
  readonly video: number;
  readonly payloadType: number;
  /** SPS and PPS given in the SDP (none when the publisher sends them in-band only). */
  readonly parameterSets: readonly Uint8Array[];
}

/** Sections past this are not a camera's announcement. */
const MAX_MEDIA = 8;

export function readAnnouncement(sdp: string): Announcement {
  if (!/^v=0\r?$/m.test(sdp.split("\n", 1)[0] ?? ""))
    throw new IngestOfferError("the ANNOUNCE body is not an SDP session description (it must start with v=0)");
  const sections: { kind: string; formats: string[]; lines: string[] }[] = [];
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    const m = /^m=(\S+) \d+(?:\/\d+)? \S+((?: \S+)*)$/.exec(line);
    if (m) {
      sections.push({ kind: m[1]!.toLowerCase(), formats: m[2]!.trim().split(" ").filter(Boolean), lines: [] });
      if (sections.length > MAX_MEDIA) throw new IngestOfferError(`the SDP has over ${MAX_MEDIA} media sections`);
    } else if (line.startsWith("m=")) {
      throw new IngestOfferError("the SDP has a media line (m=) that cannot be read");
    } else {
      sections.at(-1)?.lines.push(line);
    }
  }
  if (!sections.some((s) => s.kind === "video")) throw new AnnouncedCodecError("the SDP announces no video; this server takes H.264 video");
  const media = sections.map((s) => ({
    kind: s.kind,
    control:
      s.lines
        .find((l) => l.startsWith("a=control:"))
        ?.slice("a=control:".length)
        .trim() || null,
  }));
  for (const [i, s] of sections.entries()) {
    if (s.kind !== "video") continue;
    const h264 = s.lines.map((l) => /^a=rtpmap:(\d{1,3}) H264\/90000/i.exec(l)).find((m) => m && s.formats.includes(m[1]!));
    if (!h264) continue;
    const payloadType = Number(h264[1]);
    if (payloadType > 127) continue;
    const fmtp = s.lines.find((l) => l.startsWith(`a=fmtp:${payloadType} `)) ?? "";
    const mode = /packetization-mode=(\d)/.exec(fmtp)?.[1] ?? "0";
    if (mode !== "0" && mode !== "1") throw new AnnouncedCodecError(`the H.264 video uses packetization-mode=${mode}; this server takes 0 and 1`);
    return { media, video: i, payloadType, parameterSets: spropParameterSets(fmtp) };
  }
  const codecs = sections
    .filter((s) => s.kind === "video")
    .flatMap((s) => s.lines.map((l) => /^a=rtpmap:\d+ ([A-Za-z0-9_.-]+)\//.exec(l)?.[1]).filter(Boolean));
  throw new AnnouncedCodecError(`the announced video is ${codecs.length > 0 ? codecs.join(", ") : "not H.264 (no rtpmap)"}; this server takes H.264`);
}

/**
 * Which media section a SETUP's URI names: its control resolved against the
 * ANNOUNCE's URI (ffmpeg: "streamid=0", GStreamer: "stream=0"), or an
 * absolute one; a single section also answers the ANNOUNCE's own URI.
 * Queries are left out on both sides.
 */
export function mediaOf(a: Announcement, announceUri: string, setupUri: string): number | null {
  const plain = (u: string) => u.split("?")[0]!.replace(/\/+$/, "");
  const base = plain(announceUri);
  const setup = plain(setupUri);
  const found = a.media.findIndex((m) => {
    if (m.control === null || m.control === "*") return false;
    if (/^rtsps?:\/\//i.test(m.control)) return plain(m.control) === setup || pathOf(plain(m.control)) === pathOf(setup);
    return setup === `${base}/${m.control}` || pathOf(setup) === `${pathOf(base)}/${m.control}`;
  });
  if (found >= 0) return found;
  return a.media.length === 1 && (setup === base || pathOf(setup) === pathOf(base)) ? 0 : null;
}

/** A URL's path (the same URL may name the host differently in ANNOUNCE and SETUP). */
function pathOf(uri: string): string {
  const m = /^rtsps?:\/\/[^/]*(.*)$/i.exec(uri);
  return m ? m[1]! : uri;
}

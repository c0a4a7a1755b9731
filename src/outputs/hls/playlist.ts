/**
 * The LL-HLS media playlist (RFC 8216 and its revision draft-pantos-hls-rfc8216bis):
 * the kept segments, the parts of the newest ones, the preload hint of the
 * next part, and the server control that lets players block on a reload.
 * Players without low-latency support read the same playlist and skip the
 * EXT-X-PART lines: plain segments.
 *
 * Apple's HLS authoring specification (what Safari and iOS hold a stream
 * to) is kept too: EXT-X-VERSION 6 (EXT-X-MAP; the low-latency tags need no
 * higher one), EXT-X-PROGRAM-DATE-TIME on every segment of a live playlist
 * (8.4), EXT-X-DISCONTINUITY-SEQUENCE always when a discontinuity can come
 * (8.17; new parameter sets make one), EXT-X-INDEPENDENT-SEGMENTS when every
 * listed segment starts with an IDR picture (9.12: there is no multivariant
 * playlist to carry it), PART-HOLD-BACK three times PART-TARGET (14.3).
 *
 * URIs are relative to the playlist and carry the session (a new one each
 * time the muxer starts, so that an immutable cached segment is never a
 * different one under the same name), and the playlist's `?token=`, if any.
 */
import type { HlsSegment, Segmenter } from "./segmenter.ts";

export interface PlaylistSettings {
  readonly session: string;
  readonly partTargetS: number;
  readonly targetDurationS: number;
  /** `?token=…` to add to every URI, or "". */
  readonly query: string;
}

export const segmentName = (session: string, msn: number) => `${session}.${msn}.m4s`;
export const partName = (session: string, msn: number, part: number) => `${session}.${msn}.${part}.m4s`;
export const initName = (session: string, id: number) => `${session}.init${id}.mp4`;

const seconds = (s: number) => s.toFixed(3);

export function renderPlaylist(seg: Segmenter, s: PlaylistSettings): string {
  const uri = (name: string) => name + s.query;
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:6",
    `#EXT-X-TARGETDURATION:${s.targetDurationS}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(3 * s.partTargetS)}`,
    `#EXT-X-PART-INF:PART-TARGET=${seconds(s.partTargetS)}`,
  ];
  const listed: HlsSegment[] = [...seg.segments, ...(seg.current ? [seg.current] : [])];
  if (listed.length > 0 && listed.every((x) => x.independent)) lines.splice(2, 0, "#EXT-X-INDEPENDENT-SEGMENTS");
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${listed[0]?.msn ?? 0}`);
  lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${seg.discontinuitySequence}`);
  let initId = -1;
  for (const segment of listed) {
    if (segment.initId !== initId) {
      if (initId !== -1 || segment.discontinuity) lines.push("#EXT-X-DISCONTINUITY");
      lines.push(`#EXT-X-MAP:URI="${uri(initName(s.session, segment.initId))}"`);
      initId = segment.initId;
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programTime).toISOString()}`);
    for (const part of segment.parts) {
      lines.push(
        `#EXT-X-PART:DURATION=${seconds(part.duration)},URI="${uri(partName(s.session, segment.msn, part.index))}"${part.independent ? ",INDEPENDENT=YES" : ""}`,
      );
    }
    if (segment.bytes) lines.push(`#EXTINF:${seconds(segment.duration)},`, uri(segmentName(s.session, segment.msn)));
  }
  const next = seg.nextPart();
  if (next) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${uri(partName(s.session, next.msn, next.part))}"`);
  return lines.join("\n") + "\n";
}

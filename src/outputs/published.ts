/** A stream as the HTTP side sees it: its core, every output made of it, and its addresses. */
import type { MjpegBroadcaster } from "./mjpeg/broadcaster.ts";
import type { HlsOutput } from "./hls/hls-output.ts";
import type { Publisher } from "./publish/publisher.ts";
import type { H264Feed } from "../stream/h264-feed.ts";
import type { AudioFeed } from "../stream/audio-feed.ts";
import type { Audience } from "../stream/audience.ts";
import type { Stream } from "../stream/stream.ts";
import type { IngestState, IngestStats } from "../sources/ingest/pushed-ingest.ts";

export interface PublishedStream {
  readonly name: string;
  readonly stream: Stream;
  /** Who watches it, over every output. */
  readonly audience: Audience;
  readonly mjpeg: MjpegBroadcaster;
  /** Its shared H.264 for WebRTC viewers (null with --no-webrtc). */
  readonly h264: H264Feed | null;
  /** Its H.264 feed, also when only RTSP clients or --publish destinations use it (with --no-webrtc); else as h264. */
  readonly feed?: H264Feed | null;
  /** Its sound (--audio), sent to WebRTC viewers; null or left out without. */
  readonly audio?: AudioFeed | null;
  /** Its HLS (null or left out without it). */
  readonly hls?: HlsOutput | null;
  /** Its --publish destinations (none when left out). */
  readonly publish?: readonly Publisher[];
  /** Its ingest, when a publisher feeds it (--source whip:NAME or rtsp-push:PATH). */
  readonly ingest?: { readonly state: IngestState; stats(): IngestStats } | null;
  /** Its MJPEG stream, snapshot and page paths, as the page links them. */
  readonly video: string;
  readonly snapshot: string;
  readonly view: string;
  /** Every path answering its MJPEG stream and its snapshot. */
  readonly all: { readonly video: readonly string[]; readonly snapshot: readonly string[] };
}

/**
 * The first stream keeps the short addresses (/video, /snapshot.jpg: one
 * camera works as before); every stream also has /video/NAME and
 * /snapshot/NAME.jpg. `videoBase` follows --video-endpoint.
 */
export function addressesOf(index: number, name: string, videoBase: string) {
  const own = { video: `${videoBase}/${name}`, snapshot: `/snapshot/${name}.jpg` };
  return {
    video: index === 0 ? videoBase : own.video,
    snapshot: index === 0 ? "/snapshot.jpg" : own.snapshot,
    view: `/view/${name}`,
    all: {
      video: index === 0 ? [videoBase, own.video] : [own.video],
      snapshot: index === 0 ? ["/snapshot.jpg", own.snapshot] : [own.snapshot],
    },
  };
}

/**
 * One connection's publishing (RFC 2326 ANNOUNCE, SETUP with
 * mode=record, RECORD, TEARDOWN) to an `rtsp-push:` stream: what was
 * announced, which interleaved channel or UDP port carries which announced
 * track, and the publisher once RECORD is accepted. Only the H.264 track's
 * packets go on (to sources/rtsp-push/ingest.ts); a track the stream does
 * not take (audio) may be set up, and its packets are dropped.
 */
import type { Announcement } from "../../sources/rtsp-push/announcement.ts";
import type { RtspIngest, RtspPublisher } from "../../sources/rtsp-push/ingest.ts";

export type RecordTransport =
  | { readonly kind: "tcp"; readonly rtpChannel: number; readonly rtcpChannel: number }
  | { readonly kind: "udp"; readonly rtpPort: number; readonly rtcpPort: number };

export class Recording {
  readonly id = Buffer.from(crypto.getRandomValues(new Uint8Array(12)))
    .toString("hex")
    .toUpperCase();
  /** Announced media index → its transport, once set up. */
  readonly tracks = new Map<number, RecordTransport>();
  publisher: RtspPublisher | null = null;

  constructor(
    readonly stream: string,
    readonly ingest: RtspIngest,
    readonly announcement: Announcement,
    /** The ANNOUNCE's URI: the tracks' controls are relative to it. */
    readonly uri: string,
  ) {}

  get video(): RecordTransport | undefined {
    return this.tracks.get(this.announcement.video);
  }

  /** Interleaved channels in use (a new track's default pair is the next free one). */
  channels(): Set<number> {
    return new Set([...this.tracks.values()].flatMap((t) => (t.kind === "tcp" ? [t.rtpChannel, t.rtcpChannel] : [])));
  }

  /** An interleaved frame on `channel`: the video's RTP goes to the publisher, the rest is dropped. */
  interleaved(channel: number, data: Uint8Array): void {
    const v = this.video;
    if (this.publisher && v?.kind === "tcp" && v.rtpChannel === channel) this.publisher.rtp(data);
  }

  end(reason: string): void {
    this.publisher?.end(reason);
  }
}

/** The transports a SETUP for recording offers, in its order of preference: RTP/AVP/TCP interleaved or RTP/AVP (UDP) unicast. */
export type OfferedTransport =
  | { readonly kind: "tcp"; readonly channels: [number, number] | null }
  | { readonly kind: "udp"; readonly ports: [number, number] };

export function recordTransports(header: string): OfferedTransport[] {
  return header.split(",").flatMap((spec): OfferedTransport[] => {
    const parts = spec
      .trim()
      .split(";")
      .map((p) => p.trim());
    const protocol = parts[0]!.toUpperCase();
    const params = new Map(
      parts.slice(1).map((p) => {
        const eq = p.indexOf("=");
        return eq < 0 ? ([p.toLowerCase(), ""] as const) : ([p.slice(0, eq).toLowerCase(), p.slice(eq + 1).replace(/^"|"$/g, "")] as const);
      }),
    );
    if (params.has("multicast") || (params.has("mode") && !/record/i.test(params.get("mode")!))) return [];
    if (protocol === "RTP/AVP/TCP") {
      const pair = params.has("interleaved") ? portPair(params.get("interleaved"), 255) : null;
      if (params.has("interleaved") && !pair) return [];
      return [{ kind: "tcp", channels: pair }];
    }
    if (protocol === "RTP/AVP" || protocol === "RTP/AVP/UDP") {
      const pair = portPair(params.get("client_port"), 65535);
      return pair && pair[0] > 0 ? [{ kind: "udp", ports: pair }] : [];
    }
    return [];
  });
}

/** "N-M" (or "N", then M = N + 1) with both at most `max`, or null. */
export function portPair(value: string | undefined, max: number): [number, number] | null {
  const m = value === undefined ? null : /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  return a <= max && b <= max ? [a, b] : null;
}

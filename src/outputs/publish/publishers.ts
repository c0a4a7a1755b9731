/** Makes the publisher of each --publish destination, with the connection its protocol needs. */
import { redactorFor } from "../../redact.ts";
import type { Stream } from "../../stream/stream.ts";
import type { IceSettings } from "../webrtc/peer.ts";
import type { H264Feed } from "../../stream/h264-feed.ts";
import { ffmpegConnection } from "./ffmpeg-push.ts";
import { DEFAULT_BACKOFF, Publisher, type Backoff, type Connect } from "./publisher.ts";
import type { PublishTarget } from "./target.ts";
import { whipConnection } from "./whip-client.ts";

export interface PublishSettings {
  readonly ffmpeg: string;
  /** ICE settings of the WHIP sessions (those of the WebRTC viewers). */
  readonly ice: IceSettings;
  readonly backoff?: Backoff;
}

export function createPublisher(target: PublishTarget, feed: H264Feed, stream: Stream, settings: PublishSettings): Publisher {
  const redact = redactorFor(target.url, target.secrets);
  const connect: Connect =
    target.protocol === "whip"
      ? (onLive) => whipConnection(target, settings.ice, redact, onLive)
      : (onLive) => ffmpegConnection(settings.ffmpeg, target, redact, onLive);
  return new Publisher(target, feed, stream, connect, redact, settings.backoff ?? DEFAULT_BACKOFF);
}

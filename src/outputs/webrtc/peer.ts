/**
 * One WebRTC viewer: a werift RTCPeerConnection with a send-only H.264 track
 * fed from the stream's shared H.264 feed. The answer is complete (all ICE
 * candidates in the SDP, no trickle), which is what vidgear's /offer and
 * WHEP clients expect. Each peer numbers its own RTP packets; the payloads
 * are made once per access unit for every peer.
 */
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCPeerConnectionConfig, type RTCRtpTransceiver } from "werift";
import type { AudioFeed } from "../../stream/audio-feed.ts";
import { AudioSender, opusCodec } from "./audio-sender.ts";
import { clockSenderReports } from "./sender-clock.ts";
import type { TimedAccessUnit } from "../../encoders/h264-ffmpeg.ts";
import type { Arrival, Viewer } from "../../stream/audience.ts";
import type { H264Feed } from "../../stream/h264-feed.ts";
import { packetizeH264 } from "../../media/h264/rtp-h264.ts";
import { CloseSignal } from "../../close-signal.ts";
import { log } from "../../log.ts";

/** Constrained baseline, packetization-mode 1: decoded by every browser. */
export function h264Codec(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: "video/H264",
    clockRate: 90000,
    rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }],
    parameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  });
}

export interface IceSettings {
  /** stun:/turn:/turns: servers, used by the server and handed to the page. */
  readonly iceServers: readonly { readonly urls: string; readonly username?: string; readonly credential?: string }[];
  /** Addresses announced as host candidates instead of the interfaces' own (empty: the interfaces'). */
  readonly candidates: readonly string[];
  /** UDP ports the peers may use, for firewalls. */
  readonly portRange: readonly [number, number] | null;
  /** The local address the media sockets bind (a --webrtc-candidate that is this machine's), or null for all. */
  readonly bindAddress?: string | null;
}

/** `audio`: the peer may send Opus (its stream has sound). */
export function peerConfig(ice: IceSettings, audio = false): Partial<RTCPeerConnectionConfig> {
  const only = ice.candidates.length > 0;
  return {
    codecs: { video: [h264Codec()], audio: audio ? [opusCodec()] : [] },
    // Always give the list, even empty: werift's default is a public STUN server,
    // which an offline Pi would wait for before every answer.
    iceServers: ice.iceServers.map((s) => ({ ...s })),
    iceStunGatherTimeout: 2,
    ...(only ? { iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: [...ice.candidates] } : {}),
    ...(ice.portRange ? { icePortRange: [...ice.portRange] as [number, number] } : {}),
    ...(ice.bindAddress ? { iceInterfaceAddresses: ice.bindAddress.includes(":") ? { udp6: ice.bindAddress } : { udp4: ice.bindAddress } } : {}),
    bundlePolicy: "max-bundle",
  };
}

export class OfferError extends Error {}

/** No UDP port was left for a peer (--webrtc-port-range is all taken): a 503, as for --webrtc-max-peers. */
export class NoMediaPort extends Error {}

/** The peer was closed while its offer was being answered (the server shutting down): a 503, try again. */
export class ClosedWhileAnswering extends Error {
  constructor() {
    super("the server let go of this offer before it was answered; try again");
  }
}

/** RTP payload budget: SRTP packets stay well under any path MTU. */
const MAX_PAYLOAD = 1200;
/**
 * A peer whose media has not started this long after its answer was made
 * (its client went away mid-handshake, or never meant to connect) is
 * dropped: a browser on a LAN connects in well under a second, through TURN
 * in a few. It counts from the answer, not the offer: a starved machine may
 * take seconds to answer, and that time is the server's, not the client's.
 */
export const CONNECT_DEADLINE_MS = 10_000;
/** Receivers report (RTCP) about once a second; a peer silent this long is gone (a closed tab, a crash). */
const RTCP_SILENCE_MS = 5000;
/** The cached GOP goes out one access unit per this many ms after its keyframe: a burst would overflow receive buffers. */
const BURST_PACE_MS = 2;

/**
 * werift queries a public STUN server (Google's) whenever no stun: server is
 * configured, even with `iceServers: []`: a DNS lookup and a request per
 * viewer, over a second on an offline Pi. Unset it unless one was asked for.
 */
export function dropDefaultStun(pc: RTCPeerConnection, ice: IceSettings): void {
  if (ice.iceServers.some((s) => s.urls.startsWith("stun:"))) return;
  for (const transport of pc.iceTransports) {
    (transport as unknown as { connection: { stunServer?: unknown } }).connection.stunServer = undefined;
  }
}

/** An audio m-line in the offer, with the sending direction it allows. */
function offersAudio(sdp: string): boolean {
  const audio = /^m=audio [1-9][\s\S]*?(?=^m=|(?![\s\S]))/m.exec(sdp)?.[0];
  return audio !== undefined && !/^a=(sendonly|inactive)\s*$/m.test(audio);
}

export class Peer {
  readonly id = crypto.randomUUID();
  readonly pc: RTCPeerConnection;
  readonly createdAt = performance.now();
  /** When media started to flow (DTLS up), or null. */
  readyAt: number | null = null;
  #release: (() => void) | null;
  #unsubscribe: (() => void) | null = null;
  #closed = false;
  /** Its place in the audience, once its offer is answered. */
  #member: Viewer | null = null;
  /** The sound sent to this peer, when its offer took audio. */
  #audioSender: AudioSender | null = null;
  #deadline: ReturnType<typeof setTimeout> | null = null;
  /** Cuts the steps of an answer short when the peer is closed. */
  readonly #closing = new CloseSignal(() => new ClosedWhileAnswering());
  #paceTimer: ReturnType<typeof setTimeout> | null = null;
  #watchdog: ReturnType<typeof setInterval> | null = null;
  #lastRtcpAt = 0;
  #seq = (Math.random() * 0xffff) | 0;
  readonly #tsOffset = (Math.random() * 0xffffffff) >>> 0;

  constructor(
    private readonly feed: H264Feed,
    private readonly ice: IceSettings,
    private readonly onClose: (peer: Peer) => void,
    /** Its place in the stream's audience, taken once its offer is answered (a refused offer is no viewer); it leaves when the peer closes. */
    private readonly arrival: Arrival | null = null,
    /** Who sent the offer (offers not yet connected are counted per client). */
    readonly client = "unknown",
    /** The stream's sound, sent when the offer takes audio; null for a stream without. */
    private readonly audio: AudioFeed | null = null,
  ) {
    this.pc = new RTCPeerConnection(peerConfig(ice, audio !== null));
    // Start the encoder now, so a keyframe is cached by the time DTLS is up; held until close.
    this.#release = feed.hold();
    // Not on "disconnected", which can recover; a peer that is really gone falls silent (watchdog).
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === "failed" || state === "closed") void this.close();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }
  /** True when this peer is sent the stream's sound. */
  get hasAudio(): boolean {
    return this.#audioSender !== null;
  }

  /** Offer SDP in, complete answer SDP out; an OfferError for an offer it cannot answer. */
  async answer(offerSdp: string): Promise<string> {
    const transceiver = this.pc.addTransceiver(new MediaStreamTrack({ kind: "video", codec: h264Codec() }), { direction: "sendonly" });
    const audio = this.#audioTransceiver(offerSdp);
    try {
      await this.#closing.race(this.pc.setRemoteDescription({ type: "offer", sdp: offerSdp }));
    } catch (err) {
      if (err instanceof ClosedWhileAnswering) throw err;
      // werift's own words name its internals ("undefined is not an object …"): they go to the debug log, not to the client.
      log.debug(`webrtc: an offer werift could not read: ${(err as Error).message}`);
      throw new OfferError(
        "the offer's SDP could not be read (expected a complete SDP offer: v=, o=, s=, t= and an m=video section with ICE and DTLS attributes)",
      );
    }
    dropDefaultStun(this.pc, this.ice);
    // werift answers an offer it cannot use with the video rejected, not with an error.
    if (!transceiver.mid || !transceiver.sender.codec) {
      throw new OfferError("the offer has no video this server can send (H.264 constrained baseline, packetization-mode 1)");
    }
    const sender = transceiver.sender;
    // Sender reports from the clock the pictures are stamped with (see sender-clock.ts).
    clockSenderReports(sender, (now) => Math.round(now * 90) + this.#tsOffset);
    sender.onReady.once(() => this.#startMedia((packet) => sender.sendRtp(packet)));
    // Sound only when the offer took it (a peer offering video alone gets video alone).
    if (audio?.mid && audio.sender.codec && this.audio) this.#audioSender = new AudioSender(this.audio, audio.sender);
    sender.onRtcp.subscribe(() => {
      this.#lastRtcpAt = performance.now();
    });
    const answer = await this.#closing.race(this.pc.createAnswer());
    // As DTLS client werift waits a fixed 100 ms before its first packet: when the offer
    // lets us choose (actpass), be the server and let the browser start at once.
    const sdp = /a=setup:actpass/.test(offerSdp) ? answer.sdp.replace(/a=setup:active/g, "a=setup:passive") : answer.sdp;
    await this.#closing.race(this.pc.setLocalDescription({ type: "answer", sdp })); // resolves once every candidate is gathered
    // A browser's pc.close() sends a DTLS close alert: werift closes the transport but not the connection.
    for (const dtls of this.pc.dtlsTransports) {
      dtls.onStateChange.subscribe((state) => {
        if (state === "closed" || state === "failed") void this.close();
      });
    }
    const local = this.pc.localDescription?.sdp;
    if (!local || !/^m=video [1-9]/m.test(local)) throw new OfferError("the offer's video cannot be received with H.264 here");
    // werift answers without a candidate when it could bind no UDP port (every port of the range taken).
    if (!/^a=candidate:/m.test(local)) throw new NoMediaPort("no UDP port is free for another WebRTC viewer (--webrtc-port-range); try again later");
    if (this.#closed) throw new ClosedWhileAnswering();
    this.#member = this.arrival?.admit() ?? null;
    this.#deadline = setTimeout(() => {
      if (this.readyAt === null) void this.close();
    }, CONNECT_DEADLINE_MS);
    return local;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#closing.close();
    if (this.#paceTimer) clearTimeout(this.#paceTimer);
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#unsubscribe?.();
    this.#audioSender?.stop();
    this.#release?.();
    this.#release = null;
    if (this.#member) this.#member.leave();
    else this.arrival?.cancel();
    await this.pc.close().catch(() => {});
    this.onClose(this);
  }

  /** A send-only Opus transceiver when the stream has sound and the offer takes audio, else none (no m-line is added). */
  #audioTransceiver(offerSdp: string): RTCRtpTransceiver | null {
    if (!this.audio || !offersAudio(offerSdp)) return null;
    return this.pc.addTransceiver(new MediaStreamTrack({ kind: "audio", codec: opusCodec() }), { direction: "sendonly" });
  }

  #startMedia(send: (packet: RtpPacket) => unknown): void {
    if (this.#closed) return;
    this.readyAt = performance.now();
    this.#lastRtcpAt = this.readyAt;
    this.#watchdog = setInterval(() => {
      if (performance.now() - this.#lastRtcpAt > RTCP_SILENCE_MS) void this.close();
    }, 1000);
    // The access units since the last keyframe: the keyframe at once, the rest paced
    // behind it, re-timed one tick apart before the newest so the browser decodes
    // them all and shows "now". Live access units wait behind the burst, in order.
    const gop = this.feed.currentGop();
    const newest = gop.at(-1)?.timestamp ?? 0;
    const queue = gop.map((au, i) => ({ au, timestamp: (newest - (gop.length - 1 - i)) >>> 0 }));
    const drain = () => {
      this.#paceTimer = null;
      const next = queue.shift();
      if (!next || this.#closed) return;
      this.#send(send, next.au, next.timestamp);
      if (queue.length > 0) this.#paceTimer = setTimeout(drain, BURST_PACE_MS);
    };
    let live = queue.length > 0;
    this.#unsubscribe = this.feed.subscribe((au) => {
      if (!live && !au.keyframe) return; // no cached keyframe yet: start at the next one
      live = true;
      if (queue.length > 0 || this.#paceTimer) queue.push({ au, timestamp: au.timestamp });
      else this.#send(send, au, au.timestamp);
    });
    drain();
  }

  #send(send: (packet: RtpPacket) => unknown, au: TimedAccessUnit, timestamp: number): void {
    this.#member?.sent();
    const payloads = packetsOf(au);
    const last = payloads.length - 1;
    payloads.forEach((payload, i) => {
      const header = new RtpHeader({
        payloadType: 0,
        ssrc: 0, // werift's sender fills in the negotiated ones
        sequenceNumber: this.#seq,
        timestamp: (timestamp + this.#tsOffset) >>> 0,
        marker: i === last,
      });
      this.#seq = (this.#seq + 1) & 0xffff;
      send(new RtpPacket(header, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)));
    });
  }
}

/** Payloads are made once per access unit and shared by every peer (and every WHIP destination). */
const payloadCache = new WeakMap<TimedAccessUnit, Uint8Array[]>();
export function packetsOf(au: TimedAccessUnit): Uint8Array[] {
  let payloads = payloadCache.get(au);
  if (!payloads) payloadCache.set(au, (payloads = packetizeH264(au, MAX_PAYLOAD)));
  return payloads;
}

/**
 * A stream fed by a WHIP publisher (RFC 9725): `--source whip:NAME`, whose
 * endpoint is `POST /whip/NAME` (routes/whip.ts). Each publish is one werift
 * peer that receives H.264 (constrained baseline or any profile the
 * publisher offers, packetization-mode 1); its RTP is put back into access
 * units (depacketize.ts) and handed to the stream as H.264 frames, untouched:
 * WebRTC viewers and --publish destinations get the publisher's own bytes,
 * MJPEG viewers a decode of them.
 *
 * One publisher at a time: a second POST while one sends gets 409 (a
 * running camera is never taken over by another publisher); one that has
 * not sent anything yet (still connecting, or gone mid-handshake) is
 * replaced by the new one. A session ends
 * with DELETE on its Location, when ICE/DTLS fails or closes, when no RTP
 * comes for the silence timeout (--source-timeout), or when it does not
 * connect in time. The stream then shows NO SIGNAL until the next publisher.
 *
 * Keyframes: PLI is sent when the session starts and after a loss until a
 * keyframe comes, and whenever `requestKeyframe()` is called.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, type RTCPeerConnectionConfig, type RTCRtpTransceiver, type RtpPacket } from "werift";
import { CloseSignal } from "../../close-signal.ts";
import { log } from "../../log.ts";
import type { Frame } from "../../media/frame.ts";
import { H264Framer } from "../frame-parsers.ts";
import { IngestOfferError, PUBLISHER_ENDED, PushedIngest, type PublisherSession } from "../ingest/pushed-ingest.ts";
import { H264Depacketizer, spropParameterSets } from "./depacketize.ts";

export { IngestBusy, IngestOfferError, type IngestState, type IngestStats } from "../ingest/pushed-ingest.ts";

/** The publisher must have media flowing this long after the answer at the latest. */
/** From its answer (a starved machine's slow answer is not the publisher's time). */
const CONNECT_DEADLINE_MS = 15_000;
const ENDED_WHILE_ANSWERING = "the offer was let go before it was answered; try again";
/** While no keyframe has come, PLI is repeated this often. */
const PLI_REPEAT_MS = 1000;

/**
 * How the receiving peers are made, given by the composition root (the
 * server's ICE settings, the same as its WebRTC viewers'): its config, and
 * what to do to a peer once the offer is set (drop werift's default STUN).
 */
export interface IngestPeers {
  readonly config: Partial<RTCPeerConnectionConfig>;
  prepare(pc: RTCPeerConnection): void;
}

/** Receive-side H.264 codecs: constrained baseline first, then the other common profiles (packetization-mode 1). */
function receiveCodecs(): RTCRtpCodecParameters[] {
  return ["42e01f", "42001f", "4d001f", "64001f"].map(
    (profile) =>
      new RTCRtpCodecParameters({
        mimeType: "video/H264",
        clockRate: 90000,
        rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "ccm", parameter: "fir" }],
        parameters: `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${profile}`,
      }),
  );
}

class Session implements PublisherSession {
  readonly id = crypto.randomUUID();
  readonly pc: RTCPeerConnection;
  bytes = 0;
  frames = 0;
  connected = false;
  #ended = false;
  #endReason = "";
  #lastRtpAt = performance.now();
  #timers: ReturnType<typeof setInterval>[] = [];
  /** Cuts the steps of an answer short when the session ends. */
  readonly #ending = new CloseSignal(() => new IngestOfferError(ENDED_WHILE_ANSWERING));
  #transceiver: RTCRtpTransceiver | null = null;
  #ssrc: number | null = null;
  readonly depacketizer: H264Depacketizer;
  readonly framer = new H264Framer();

  constructor(
    readonly address: string,
    private readonly peers: IngestPeers,
    private readonly silenceMs: number,
    private readonly onFrame: (frame: Frame) => void,
    private readonly onEnd: (session: Session, reason: string) => void,
  ) {
    this.pc = new RTCPeerConnection({ ...peers.config, codecs: { video: receiveCodecs(), audio: [] } });
    this.depacketizer = new H264Depacketizer(() => this.requestKeyframe());
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === "failed" || state === "closed") this.end(`the WebRTC connection ${state}`);
    });
  }

  get ended(): boolean {
    return this.#ended;
  }
  get dropped(): number {
    return this.depacketizer.dropped;
  }
  get endReason(): string {
    return this.#endReason;
  }

  async answer(offer: string): Promise<string> {
    if (!/^m=video /m.test(offer)) throw new IngestOfferError("the offer has no video");
    const transceiver = this.pc.addTransceiver("video", { direction: "recvonly" });
    this.#transceiver = transceiver;
    transceiver.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp: RtpPacket) => this.#rtp(rtp));
    });
    try {
      await this.#ending.race(this.pc.setRemoteDescription({ type: "offer", sdp: offer }));
      this.peers.prepare(this.pc);
      this.framer.seed(spropParameterSets(offer));
      const answer = await this.#ending.race(this.pc.createAnswer());
      // Be the DTLS server when the offer lets us choose: werift as client waits before its first packet.
      const sdp = /a=setup:actpass/.test(offer) ? answer.sdp.replace(/a=setup:active/g, "a=setup:passive") : answer.sdp;
      await this.#ending.race(this.pc.setLocalDescription({ type: "answer", sdp })); // resolves once every candidate is gathered
    } catch (err) {
      if (err instanceof IngestOfferError) throw err;
      // werift refuses what it cannot read at any of these steps (a media section without a mid, say);
      // its own words name its internals: they go to the debug log, not to the publisher.
      log.debug(`whip: an offer werift could not answer: ${(err as Error).message.split("\n")[0]}`);
      throw new IngestOfferError("the offer could not be answered (expected a complete SDP offer with an m=video section, its mid, ICE and DTLS attributes)");
    }
    if (this.#ended) throw new IngestOfferError(ENDED_WHILE_ANSWERING);
    const local = this.pc.localDescription?.sdp ?? "";
    if (!/^m=video [1-9]/m.test(local) || !/a=rtpmap:\d+ H264\//i.test(local)) {
      throw new IngestOfferError("the offer's video is not H.264 with packetization-mode 1, which this endpoint receives");
    }
    if (!/^a=candidate:/m.test(local)) throw new IngestOfferError("no UDP port is free to receive the publisher (--webrtc-port-range)");
    for (const dtls of this.pc.dtlsTransports) {
      dtls.onStateChange.subscribe((state) => {
        if (state === "closed" || state === "failed") this.end(`the publisher ${state === "closed" ? "closed" : "failed"} the DTLS session`);
      });
    }
    this.#timers.push(
      setTimeout(() => {
        if (!this.connected) this.end(`it did not connect within ${CONNECT_DEADLINE_MS / 1000} s of its answer`);
      }, CONNECT_DEADLINE_MS) as unknown as ReturnType<typeof setInterval>,
      setInterval(
        () => {
          if (this.connected && performance.now() - this.#lastRtpAt > this.silenceMs) this.end(`no video from the publisher for ${this.silenceMs / 1000} s`);
          else if (this.connected && this.depacketizer.waitingForKeyframe) this.requestKeyframe();
        },
        Math.min(PLI_REPEAT_MS, this.silenceMs / 2),
      ),
    );
    return local;
  }

  #rtp(rtp: RtpPacket): void {
    if (this.#ended) return;
    this.#lastRtpAt = performance.now();
    this.#ssrc = rtp.header.ssrc;
    if (!this.connected) {
      this.connected = true;
      this.requestKeyframe();
    }
    this.bytes += rtp.payload.length;
    for (const au of this.depacketizer.push(rtp.payload, rtp.header.sequenceNumber, rtp.header.timestamp, rtp.header.marker)) {
      this.frames++;
      this.onFrame(this.framer.frame(au));
    }
  }

  /** Asks the publisher for a keyframe (RTCP PLI). */
  requestKeyframe(): void {
    const receiver = this.#transceiver?.receiver;
    if (!receiver || this.#ssrc === null || this.#ended) return;
    receiver.sendRtcpPLI(this.#ssrc).catch(() => undefined);
  }

  end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endReason = reason;
    for (const t of this.#timers) clearInterval(t);
    this.#ending.close();
    void this.pc.close().catch(() => undefined);
    this.onEnd(this, reason);
  }
}

export interface WhipIngestOptions {
  /** The endpoint's name: POST /whip/NAME. */
  readonly name: string;
  readonly peers: IngestPeers;
  /** A publisher that sends nothing this long is gone. */
  readonly silenceMs: number;
  /** The stream's name, for logs. */
  readonly stream: string;
}

export class WhipIngest extends PushedIngest<Session> {
  readonly description: string;

  constructor(private readonly options: WhipIngestOptions) {
    super(options.stream);
    this.description = `WHIP publisher at /whip/${options.name}`;
  }

  get endpoint(): string {
    return `/whip/${this.options.name}`;
  }

  /**
   * Answers a publisher's offer: IngestBusy while another one sends,
   * IngestOfferError for an offer it cannot use. A publisher that has not
   * sent anything yet is replaced, once the new offer is answered.
   */
  async publish(offer: string, address: string): Promise<{ id: string; sdp: string }> {
    this.checkFree();
    const session = new Session(
      address,
      this.options.peers,
      this.options.silenceMs,
      (frame) => this.push(session, frame),
      (s, reason) => this.ended(s, reason),
    );
    let sdp: string;
    try {
      sdp = await session.answer(offer);
      this.attach(session); // IngestBusy when another one connected meanwhile
    } catch (err) {
      session.end("its offer was refused");
      throw err;
    }
    return { id: session.id, sdp };
  }

  /** Ends the session `id` (the publisher's DELETE); false when it is not the live one. */
  stop(id: string): boolean {
    const s = this.session;
    if (!s || s.ended || s.id !== id) return false;
    s.end(`${PUBLISHER_ENDED} (DELETE)`);
    return true;
  }

  isLive(id: string): boolean {
    return this.session?.id === id && !this.session.ended;
  }
}

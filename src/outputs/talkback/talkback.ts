/**
 * Talk-back (push to talk): what one logged-in viewer says into the page's
 * microphone, played on the machine's speaker (--talkback DEVICE, an ALSA
 * playback device). The page sends its microphone over WebRTC (Opus); the
 * packets are put into an Ogg stream as they come and played by an ffmpeg
 * that runs while the viewer talks. One speaker at a time: an offer while
 * someone talks is refused (Busy), and a talker whose connection fails or
 * who is silent for TALKER_SILENCE_MS lets the next one in.
 */
import { RTCPeerConnection, type RtpPacket } from "werift";
import { CloseSignal } from "../../close-signal.ts";
import { log } from "../../log.ts";
import { OggOpusWriter } from "../../media/opus/ogg-writer.ts";
import { opusSamples } from "../../media/opus/ogg-opus.ts";
import { spawnOwned, type OwnedChild } from "../../process/child.ts";
import { PipeWriter } from "../../process/pipe-writer.ts";
import { dropDefaultStun, OfferError, peerConfig, type IceSettings } from "../webrtc/peer.ts";
import { opusCodec } from "../webrtc/audio-sender.ts";

export class Busy extends Error {}

/** A talker that sends nothing for this long (a closed tab, a dropped network; before the first packet: not connected) is let go. */
const TALKER_SILENCE_MS = 5000;
/** Nobody holds the button this long: a talker is let go after it (another may then talk). */
const MAX_TALK_MS = 5 * 60_000;
/** A speaker ffmpeg that ended while someone talks (the device busy, an ALSA error) is started again, at most this often. */
const SPEAKER_RETRY_MS = 1000;

/** ffmpeg playing Ogg Opus from its stdin on an ALSA device, with as little buffering as it allows. */
export function speakerArgs(ffmpeg: string, device: string): string[] {
  return [
    ffmpeg,
    "-hide_banner",
    "-nostats",
    "-loglevel",
    "warning",
    "-probesize",
    "32",
    "-analyzeduration",
    "0",
    "-fflags",
    "nobuffer",
    "-f",
    "ogg",
    "-i",
    "pipe:0",
    "-ac",
    "1",
    "-ar",
    "48000",
    "-f",
    "alsa",
    device,
  ];
}

interface Talker {
  readonly id: string;
  readonly pc: RTCPeerConnection;
  readonly since: number;
  /** Its offer was answered (a refused offer is no talker: nothing is logged of it). */
  answered: boolean;
  child: OwnedChild | null;
  /** The Ogg stream into the speaker's ffmpeg, from the first packet on; null again once that ffmpeg ended by itself. */
  writer: { readonly ogg: OggOpusWriter; readonly pipe: PipeWriter } | null;
  /** When the speaker's ffmpeg was last started (a failing one is started again at most once per SPEAKER_RETRY_MS). */
  speakerStartedAt: number;
  lastPacketAt: number;
  packets: number;
  timer: ReturnType<typeof setInterval>;
  /** Cuts the steps of its answer short when it is closed. */
  readonly closing: CloseSignal;
}

export interface TalkBackStats {
  readonly device: string;
  readonly talking: boolean;
  /** Talk-back sessions so far, and offers refused because someone was talking. */
  readonly sessions: number;
  readonly refused: number;
  readonly packets: number;
}

export class TalkBack {
  #talker: Talker | null = null;
  #sessions = 0;
  #refused = 0;
  #packets = 0;

  constructor(
    readonly device: string,
    private readonly ffmpeg: string,
    private readonly ice: IceSettings,
  ) {}

  get talking(): boolean {
    return this.#talker !== null;
  }

  stats(): TalkBackStats {
    return { device: this.device, talking: this.talking, sessions: this.#sessions, refused: this.#refused, packets: this.#packets };
  }

  /** Answers a page's offer (its microphone as sendonly audio); Busy while someone else talks. */
  async open(offerSdp: string): Promise<{ id: string; sdp: string }> {
    if (this.#talker) {
      this.#refused++;
      throw new Busy("someone else is talking; try again when they let go of the button");
    }
    const pc = new RTCPeerConnection({ ...peerConfig(this.ice, true), codecs: { audio: [opusCodec()], video: [] } });
    const talker: Talker = {
      id: crypto.randomUUID(),
      pc,
      since: performance.now(),
      answered: false,
      child: null,
      writer: null,
      speakerStartedAt: -Infinity,
      lastPacketAt: performance.now(),
      packets: 0,
      closing: new CloseSignal(() => new Busy("the offer was let go before it was answered; try again")),
      timer: setInterval(() => {
        const now = performance.now();
        if (now - talker.lastPacketAt > TALKER_SILENCE_MS || now - talker.since > MAX_TALK_MS) void this.close(talker.id);
      }, 500),
    };
    this.#talker = talker;
    try {
      const transceiver = pc.addTransceiver("audio", { direction: "recvonly" });
      // Before the offer is read: werift gives the track while it reads it.
      transceiver.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp: RtpPacket) => this.#play(talker, rtp.payload)));
      try {
        await talker.closing.race(pc.setRemoteDescription({ type: "offer", sdp: offerSdp }));
      } catch (err) {
        if (err instanceof Busy) throw err;
        // werift's own words name its internals: the debug log has them.
        log.debug(`talk-back: an offer werift could not read: ${(err as Error).message}`);
        throw new OfferError("the offer's SDP could not be read (expected a complete SDP offer with an m=audio section, ICE and DTLS attributes)");
      }
      dropDefaultStun(pc, this.ice);
      if (!transceiver.mid || !transceiver.receiver) throw new OfferError("the offer sends no audio this server can play (Opus)");
      pc.connectionStateChange.subscribe((state) => {
        if (state === "failed" || state === "closed") void this.close(talker.id);
      });
      await talker.closing.race(pc.setLocalDescription(await talker.closing.race(pc.createAnswer())));
      const sdp = pc.localDescription?.sdp;
      if (!sdp || !/^m=audio [1-9]/m.test(sdp)) throw new OfferError("the offer's audio cannot be received with Opus here");
      this.#sessions++;
      talker.answered = true;
      // Silence counts from the answer: a slow answer is the server's time, not the talker's.
      talker.lastPacketAt = performance.now();
      log.info(`talk-back: a viewer talks on ${this.device}`, { event: "talkback.start" });
      return { id: talker.id, sdp };
    } catch (err) {
      await this.close(talker.id);
      throw err;
    }
  }

  /** Ends a talker's session; false when there is none with that id. */
  async close(id: string): Promise<boolean> {
    const talker = this.#talker;
    if (!talker || talker.id !== id) return false;
    this.#talker = null;
    clearInterval(talker.timer);
    talker.closing.close();
    await talker.pc.close().catch(() => {});
    talker.child?.stdin?.end();
    await talker.child?.stop(1000);
    if (talker.answered)
      log.info(`talk-back: the viewer stopped talking (${Math.round((performance.now() - talker.since) / 100) / 10} s, ${talker.packets} packets)`, {
        event: "talkback.stop",
      });
    return true;
  }

  async closeAll(): Promise<void> {
    if (this.#talker) await this.close(this.#talker.id);
  }

  #play(talker: Talker, payload: Buffer): void {
    if (this.#talker !== talker) return;
    const samples = opusSamples(payload);
    if (samples === 0) return;
    talker.lastPacketAt = performance.now();
    talker.packets++;
    this.#packets++;
    if (!talker.writer) {
      // The speaker's ffmpeg starts with the first packet (the device is held only while someone talks), and
      // again when it ended by itself: the device may still have been held by the last talker's ffmpeg.
      const now = performance.now();
      if (now - talker.speakerStartedAt < SPEAKER_RETRY_MS) return;
      talker.speakerStartedAt = now;
      const child = spawnOwned(speakerArgs(this.ffmpeg, this.device), { label: "talkback", stderrLevel: "warn", stdin: "pipe" });
      const writer = { ogg: new OggOpusWriter(), pipe: new PipeWriter(child.stdin!, 64 * 1024) };
      talker.child = child;
      talker.writer = writer;
      void child.exited.then((code) => {
        if (this.#talker !== talker || talker.writer !== writer) return; // stopped by close()
        talker.writer = null;
        log.warn(`talk-back: the speaker's ffmpeg on ${this.device} ended (exit code ${code}); starting it again`, { event: "talkback.speaker" });
      });
      this.#write(writer.pipe, writer.ogg.headers());
    }
    this.#write(talker.writer.pipe, talker.writer.ogg.packet(payload, samples));
  }

  #write(pipe: PipeWriter, bytes: Uint8Array): void {
    try {
      pipe.write(bytes); // a speaker that cannot keep up loses packets, never the server's memory
    } catch (err) {
      log.debug(`talk-back: write failed: ${(err as Error).message}`);
    }
  }
}

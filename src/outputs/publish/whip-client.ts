/**
 * WHIP destinations (RFC 9725): werift as the client. One session:
 *
 * 1. a send-only H.264 transceiver (constrained baseline, packetization-mode
 *    1, the codec the WebRTC viewers get) and a complete offer, every ICE
 *    candidate in it (no trickle);
 * 2. POST it as application/sdp to the endpoint, with `Authorization: Bearer
 *    TOKEN` when there is a token; the endpoint answers 201 Created with the
 *    SDP answer and a Location (the session's URL);
 * 3. once DTLS is up, the feed's access units go out as RTP, packetized once
 *    per access unit for every viewer and destination;
 * 4. DELETE on the Location when the destination stops.
 *
 * The session is over when ICE/DTLS fails, when the endpoint sends no RTCP
 * for a while (it went away), or when it did not connect in time; the
 * publisher then makes a new one, with back-off.
 */
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket, type RTCRtpSender } from "werift";
import { dropDefaultStun, h264Codec, packetsOf, peerConfig, type IceSettings } from "../webrtc/peer.ts";
import type { Connection } from "./publisher.ts";
import type { PublishTarget } from "./target.ts";

/** The endpoint must answer the offer within this. */
const POST_TIMEOUT_MS = 10_000;
const DELETE_TIMEOUT_MS = 2000;
/** Media must flow (DTLS up) this long after the answer at the latest. */
const CONNECT_DEADLINE_MS = 20_000;
/** Receivers report (RTCP) about once a second; an endpoint silent this long is gone. */
const RTCP_SILENCE_MS = 10_000;

export function whipConnection(target: PublishTarget, ice: IceSettings, redact: (text: string) => string, onLive: () => void): Connection {
  let finish!: (reason: string) => void;
  let finished = false;
  const ended = new Promise<string>((resolve) => {
    finish = (reason) => {
      if (finished) return;
      finished = true;
      resolve(redact(reason));
    };
  });
  const abort = new AbortController();
  const pc = new RTCPeerConnection(peerConfig(ice));
  const auth: Record<string, string> = target.token ? { authorization: `Bearer ${target.token}` } : {};
  let sender: RTCRtpSender | null = null;
  let location: string | null = null;
  let lastRtcpAt = 0;
  let watchdog: ReturnType<typeof setInterval> | null = null;
  let seq = (Math.random() * 0xffff) | 0;
  const tsOffset = (Math.random() * 0xffffffff) >>> 0;
  const deadline = setTimeout(() => finish(`the WHIP session did not connect within ${CONNECT_DEADLINE_MS / 1000} s`), CONNECT_DEADLINE_MS);

  pc.connectionStateChange.subscribe((state) => {
    if (state === "failed" || state === "closed") finish(`the WebRTC connection ${state}`);
  });

  void (async () => {
    const transceiver = pc.addTransceiver(new MediaStreamTrack({ kind: "video", codec: h264Codec() }), { direction: "sendonly" });
    dropDefaultStun(pc, ice);
    transceiver.sender.onRtcp.subscribe(() => {
      lastRtcpAt = performance.now();
    });
    transceiver.sender.onReady.once(() => {
      if (finished) return;
      clearTimeout(deadline);
      sender = transceiver.sender;
      lastRtcpAt = performance.now();
      watchdog = setInterval(() => {
        if (performance.now() - lastRtcpAt > RTCP_SILENCE_MS) finish(`no RTCP from the WHIP endpoint for ${RTCP_SILENCE_MS / 1000} s`);
      }, 1000);
      onLive();
    });
    await pc.setLocalDescription(await pc.createOffer()); // resolves once every candidate is gathered
    const offer = pc.localDescription?.sdp;
    if (!offer) throw new Error("werift made no offer");
    const res = await fetch(target.url, {
      method: "POST",
      headers: { "content-type": "application/sdp", accept: "application/sdp", ...auth },
      body: offer,
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(POST_TIMEOUT_MS)]),
    });
    const body = await res.text();
    if (res.status !== 201 && res.status !== 200) {
      const detail = body.trim().split("\n")[0]?.slice(0, 200) ?? "";
      throw new Error(`the WHIP endpoint answered ${res.status} ${res.statusText}${detail ? `: ${detail}` : ""}`);
    }
    const where = res.headers.get("location");
    if (where) location = new URL(where, target.url).href;
    if (finished) return;
    await pc.setRemoteDescription({ type: "answer", sdp: body });
    // An endpoint's pc.close() sends a DTLS close alert: werift closes the transport but not the connection.
    for (const dtls of pc.dtlsTransports) {
      dtls.onStateChange.subscribe((state) => {
        if (state === "closed" || state === "failed") finish(`the WHIP endpoint ${state === "closed" ? "closed" : "failed"} the DTLS session`);
      });
    }
  })().catch((err: unknown) => {
    const e = err as Error;
    const reason =
      e.name === "TimeoutError"
        ? `the WHIP endpoint did not answer within ${POST_TIMEOUT_MS / 1000} s`
        : e.name === "AbortError"
          ? "stopped"
          : `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ""}`;
    finish(reason);
  });

  let closing: Promise<void> | null = null;
  return {
    send(au) {
      if (!sender || finished) return false;
      const payloads = packetsOf(au);
      const last = payloads.length - 1;
      let bytes = 0;
      payloads.forEach((payload, i) => {
        const header = new RtpHeader({
          payloadType: 0,
          ssrc: 0, // the sender fills in the negotiated ones
          sequenceNumber: seq,
          timestamp: (au.timestamp + tsOffset) >>> 0,
          marker: i === last,
        });
        seq = (seq + 1) & 0xffff;
        bytes += payload.byteLength;
        void sender!.sendRtp(new RtpPacket(header, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)));
      });
      return bytes;
    },
    ended,
    close() {
      closing ??= (async () => {
        finish("stopped");
        abort.abort();
        clearTimeout(deadline);
        if (watchdog) clearInterval(watchdog);
        if (location) {
          await fetch(location, { method: "DELETE", headers: auth, signal: AbortSignal.timeout(DELETE_TIMEOUT_MS) }).catch(() => undefined);
        }
        await pc.close().catch(() => undefined);
      })();
      return closing;
    },
  };
}

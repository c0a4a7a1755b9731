/**
 * One WebRTC viewer for `glasscast bench`: a werift peer that asks the
 * server's /offer for its H.264 track over loopback and counts the access
 * units that arrive whole (the RTP marker bit ends one), with the time from
 * the offer to the first. Nothing is decoded: the figure is what the server
 * delivers, not what a browser would show.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, type RtpPacket } from "werift";

export interface PeerCounts {
  frames: number;
  packets: number;
  /** ms from sending the offer to the first whole access unit. */
  firstFrameMs: number | null;
  error: string | null;
}

export interface BenchPeer {
  readonly counts: PeerCounts;
  /** Tells the server (/close_connection) unless `goodbye` is false, then closes. */
  close(goodbye?: boolean): Promise<void>;
}

function h264(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: "video/H264",
    clockRate: 90000,
    rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }],
    parameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  });
}

export async function connectPeer(base: string, timeoutMs = 10_000): Promise<BenchPeer> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ["127.0.0.1"],
    codecs: { video: [h264()], audio: [] },
  });
  const counts: PeerCounts = { frames: 0, packets: 0, firstFrameMs: null, error: null };
  let sent = 0;
  pc.addTransceiver("video", { direction: "recvonly" }).onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      counts.packets++;
      if (!rtp.header.marker) return;
      counts.frames++;
      counts.firstFrameMs ??= performance.now() - sent;
    });
  });
  let id: string | null = null;
  try {
    await pc.setLocalDescription(await pc.createOffer());
    sent = performance.now();
    const res = await fetch(`${base}/offer`, {
      method: "POST",
      body: JSON.stringify({ sdp: pc.localDescription!.sdp, type: "offer" }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status !== 200) throw new Error(`/offer answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const answer = (await res.json()) as { sdp: string; id: string };
    id = answer.id;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  } catch (err) {
    counts.error = (err as Error).message;
  }
  return {
    counts,
    async close(goodbye = true) {
      if (id !== null && goodbye) {
        await fetch(`${base}/close_connection`, { method: "POST", body: id, signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      }
      await pc.close().catch(() => undefined);
    },
  };
}

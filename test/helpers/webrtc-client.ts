/**
 * A WebRTC viewer in the test process: a werift peer that receives the
 * server's H.264 track over loopback and counts what arrives (packets, whole
 * access units, keyframes), reassembling the NAL units to check them.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { RTCPeerConnection, RTCRtpCodecParameters, type RtpPacket } from "werift";

export interface ReceivedVideo {
  packets: number;
  /** Access units completed (RTP marker bit). */
  frames: number;
  /** Access units that held an IDR slice. */
  keyframes: number;
  /** True when the first access unit received was a keyframe with SPS and PPS. */
  startedClean: boolean | null;
  /** ms from sending the offer to the first complete access unit. */
  firstFrameMs: number | null;
  sequenceGaps: number;
  /** Sequence numbers between the first and the newest received that never came (reordering aside). */
  missingPackets: number;
  /** The first SPS received, as sent (NAL header included). */
  sps: Uint8Array | null;
}

export interface TestViewer {
  readonly id: string | null;
  readonly location: string | null;
  readonly received: ReceivedVideo;
  readonly pc: RTCPeerConnection;
  /** Closes politely: tells the server (DELETE on the WHEP session, or /close_connection), then the peer. */
  close(): Promise<void>;
  /** Just goes away, as a crashed tab does: the server notices when ICE consent fails. */
  vanish(): Promise<void>;
}

function h264(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: "video/H264",
    clockRate: 90000,
    rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }],
    parameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  });
}

/** The SPS in one RTP payload (sent alone or in a STAP-A), or null. */
function spsIn(payload: Uint8Array): Uint8Array | null {
  const type = payload[0]! & 0x1f;
  if (type === 7) return payload.slice();
  if (type !== 24) return null;
  for (let o = 1; o + 2 < payload.length; ) {
    const size = (payload[o]! << 8) | payload[o + 1]!;
    if ((payload[o + 2]! & 0x1f) === 7) return payload.slice(o + 2, o + 2 + size);
    o += 2 + size;
  }
  return null;
}

/** NAL unit types in one RTP payload (single NAL, STAP-A, or the start of an FU-A). */
export function nalTypes(payload: Uint8Array): number[] {
  const type = payload[0]! & 0x1f;
  if (type === 28) return payload[1]! & 0x80 ? [payload[1]! & 0x1f] : [];
  if (type === 24) {
    const types: number[] = [];
    for (let o = 1; o + 2 < payload.length; o += 2 + ((payload[o]! << 8) | payload[o + 1]!)) types.push(payload[o + 2]! & 0x1f);
    return types;
  }
  return [type];
}

/** Connects with vidgear's /offer (default) or WHEP, announcing 127.0.0.1 only. */
/** `hostAddress`: the one address the viewer offers (127.0.0.1 unless the server is on another host). */
/** A werift viewer's offer (receive-only H.264, host candidate 127.0.0.1) that is never connected: for tests of the answering side. */
export async function viewerOffer(): Promise<{ sdp: string; close: () => Promise<void> }> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ["127.0.0.1"],
    codecs: { video: [h264()], audio: [] },
  });
  pc.addTransceiver("video", { direction: "recvonly" });
  await pc.setLocalDescription(await pc.createOffer());
  return { sdp: pc.localDescription!.sdp, close: () => pc.close() };
}

export async function connectViewer(base: string, how: { whep?: string; stream?: string; hostAddress?: string } = {}): Promise<TestViewer> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: [how.hostAddress ?? "127.0.0.1"],
    codecs: { video: [h264()], audio: [] },
  });
  const received: ReceivedVideo = {
    packets: 0,
    frames: 0,
    keyframes: 0,
    startedClean: null,
    firstFrameMs: null,
    sequenceGaps: 0,
    missingPackets: 0,
    sps: null,
  };
  let sent = 0;
  let lastSeq: number | null = null;
  const seen = new Set<number>(); // sequence numbers extended past 16 bits
  let firstExt = 0;
  let maxExt = -1;
  let types = new Set<number>();
  pc.addTransceiver("video", { direction: "recvonly" }).onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      received.packets++;
      const seq = rtp.header.sequenceNumber;
      if (lastSeq !== null && seq !== ((lastSeq + 1) & 0xffff)) received.sequenceGaps++;
      lastSeq = seq;
      const ext = maxExt < 0 ? seq : maxExt + ((((seq - (maxExt & 0xffff)) & 0xffff) ^ 0x8000) - 0x8000);
      if (maxExt < 0) firstExt = ext;
      maxExt = Math.max(maxExt, ext);
      seen.add(ext);
      received.missingPackets = maxExt - firstExt + 1 - seen.size;
      for (const t of nalTypes(rtp.payload)) types.add(t);
      received.sps ??= spsIn(rtp.payload);
      if (!rtp.header.marker) return;
      received.frames++;
      const key = types.has(5);
      if (key) received.keyframes++;
      received.startedClean ??= key && types.has(7) && types.has(8);
      received.firstFrameMs ??= performance.now() - sent;
      types = new Set();
    });
  });
  await pc.setLocalDescription(await pc.createOffer());
  const offer = pc.localDescription!.sdp;
  sent = performance.now();
  let id: string | null = null;
  let location: string | null = null;
  if (how.whep !== undefined) {
    const res = await fetch(`${base}${how.whep}`, { method: "POST", headers: { "content-type": "application/sdp" }, body: offer });
    if (res.status !== 201) throw new Error(`WHEP answered ${res.status}: ${await res.text()}`);
    location = res.headers.get("location");
    await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
  } else {
    const res = await fetch(`${base}/offer`, {
      method: "POST",
      body: JSON.stringify({ sdp: offer, type: "offer", ...(how.stream ? { stream: how.stream } : {}) }),
    });
    if (res.status !== 200) throw new Error(`/offer answered ${res.status}: ${await res.text()}`);
    const answer = (await res.json()) as { sdp: string; type: "answer"; id: string };
    id = answer.id;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  }
  const close = async () => {
    const told = location ? fetch(`${base}${location}`, { method: "DELETE" }) : fetch(`${base}/close_connection`, { method: "POST", body: id! });
    await told.catch(() => undefined);
    await pc.close();
  };
  return { id, location, received, pc, close, vanish: () => pc.close() };
}

/**
 * Waits (at most `ms`) until `viewer` has received `count` access units in
 * all; returns how many it had then. Tests count frames instead of asserting
 * a rate after a fixed sleep, which a busy machine turns into a coin toss.
 */
export async function waitForFrames(viewer: TestViewer, count: number, ms = 30_000): Promise<number> {
  const end = performance.now() + ms;
  while (viewer.received.frames < count && performance.now() < end) await Bun.sleep(50);
  return viewer.received.frames;
}

/**
 * Datagrams the kernel dropped on the UDP sockets `pid` holds (the drops column of /proc/net/udp*):
 * a starved receiver's full socket buffer, which no server can help.
 */
export function kernelUdpDrops(pid = process.pid): number {
  const inodes = socketInodes(pid);
  let drops = 0;
  for (const table of ["/proc/net/udp", "/proc/net/udp6"]) {
    for (const line of readFileSync(table, "utf8").trim().split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (inodes.has(f[9]!)) drops += Number(f[12]);
    }
  }
  return drops;
}

/** The inodes of the sockets `pid` holds open (its fds), to find them in /proc/net/*. */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  return inodes;
}

/**
 * The listeners of the audio benchmark, in a process of their own (so that
 * their CPU is theirs, not the server's): N werift peers that ask /offer for
 * H.264 and, with `audio`, Opus; they count what arrives without decoding.
 *
 *   bun run scripts/bench/lib/audio-receivers.ts BASE_URL N audio|video SECONDS
 *
 * Prints `{"ready":…}` 1.5 s after every peer has media (or after 20 s), then, after
 * SECONDS, one line with the counts of that window, and exits.
 */
import { RTCPeerConnection, RTCRtpCodecParameters } from "werift";

const [base, nText, mode, secondsText] = process.argv.slice(2);
const n = Number(nText);
const audio = mode === "audio";
const seconds = Number(secondsText);

interface Counts {
  video: number;
  audio: number;
  error: string | null;
}

async function connect(): Promise<{ counts: Counts; close: () => Promise<void> }> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ["127.0.0.1"],
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: "video/H264",
          clockRate: 90000,
          parameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        }),
      ],
      audio: audio ? [new RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2 })] : [],
    },
  });
  const counts: Counts = { video: 0, audio: 0, error: null };
  pc.addTransceiver("video", { direction: "recvonly" }).onTrack.subscribe((t) =>
    t.onReceiveRtp.subscribe((rtp) => {
      if (rtp.header.marker) counts.video++;
    }),
  );
  if (audio)
    pc.addTransceiver("audio", { direction: "recvonly" }).onTrack.subscribe((t) =>
      t.onReceiveRtp.subscribe(() => {
        counts.audio++;
      }),
    );
  let id: string | null = null;
  try {
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(`${base}/offer`, { method: "POST", body: JSON.stringify({ sdp: pc.localDescription!.sdp, type: "offer" }) });
    if (res.status !== 200) throw new Error(`/offer answered ${res.status}`);
    const answer = (await res.json()) as { sdp: string; id: string };
    id = answer.id;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  } catch (err) {
    counts.error = (err as Error).message;
  }
  return {
    counts,
    close: async () => {
      if (id) await fetch(`${base}/close_connection`, { method: "POST", body: id }).catch(() => undefined);
      await pc.close().catch(() => undefined);
    },
  };
}

// In groups of 8: the server takes at most 8 unconnected offers from one address at once.
const peers: Awaited<ReturnType<typeof connect>>[] = [];
const deadline = performance.now() + 30_000;
const flowing = (p: (typeof peers)[number]) => p.counts.error !== null || (p.counts.video > 0 && (!audio || p.counts.audio > 0));
while (peers.length < n) {
  peers.push(...(await Promise.all(Array.from({ length: Math.min(8, n - peers.length) }, connect))));
  while (performance.now() < deadline && !peers.every(flowing)) await Bun.sleep(50);
}
// 1.5 s more: past the start of a microphone's ffmpeg (silence, then its first packets), whose cost is no steady state.
await Bun.sleep(1500);
console.log(JSON.stringify({ ready: true, errors: peers.filter((p) => p.counts.error).map((p) => p.counts.error) }));
const before = peers.map((p) => ({ ...p.counts }));
await Bun.sleep(seconds * 1000);
const window = peers.map((p, i) => ({ video: p.counts.video - before[i]!.video, audio: p.counts.audio - before[i]!.audio }));
console.log(
  JSON.stringify({
    videoFramesPerPeerPerS: window.reduce((s, w) => s + w.video, 0) / n / seconds,
    audioPacketsPerPeerPerS: window.reduce((s, w) => s + w.audio, 0) / n / seconds,
    minAudioPacketsPerS: Math.min(...window.map((w) => w.audio)) / seconds,
    perPeer: process.env.BENCH_DEBUG ? window : undefined,
  }),
);
await Promise.all(peers.map((p) => p.close()));
process.exit(0);

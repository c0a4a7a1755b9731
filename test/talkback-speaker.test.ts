/**
 * Talk-back's speaker ffmpeg, in-process: a werift peer talks (Opus packets
 * every 20 ms) to a TalkBack whose "ffmpeg" is a script. The speaker that
 * fails (an ALSA device still held by the last talker's ffmpeg, an error
 * mid-way) is started again while the talker talks: the talker is not left
 * speaking into nothing for the rest of the session.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from "werift";
import { opusCodec } from "../src/outputs/webrtc/audio-sender.ts";
import { TalkBack } from "../src/outputs/talkback/talkback.ts";
import { tempDir } from "./helpers/ffmpeg.ts";
import { waitFor } from "./helpers/server.ts";

setDefaultTimeout(60_000);

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A speaker "ffmpeg" that fails its first run (as ALSA's "Device or resource busy" does) and writes its stdin to `out` after that. */
function flakySpeaker(dir: string, out: string): string {
  const script = join(dir, "ffmpeg");
  const marker = join(dir, "failed-once");
  writeFileSync(
    script,
    `#!/bin/sh\nif [ ! -e '${marker}' ]; then : > '${marker}'; echo "audio open error: Device or resource busy" >&2; exit 1; fi\nexec cat > '${out}'\n`,
  );
  chmodSync(script, 0o755);
  return script;
}

/** A werift peer sending Opus (20 ms of silence, 0xF8 0xFF 0xFE) every 20 ms once connected. */
async function talker(talkback: TalkBack): Promise<void> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ["127.0.0.1"],
    codecs: { audio: [opusCodec()], video: [] },
  });
  const track = new MediaStreamTrack({ kind: "audio" });
  pc.addTransceiver(track, { direction: "sendonly" });
  await pc.setLocalDescription(await pc.createOffer());
  const answer = await talkback.open(pc.localDescription!.sdp);
  await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  let seq = 0;
  const timer = setInterval(() => {
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq++ & 0xffff, timestamp: (seq * 960) >>> 0, marker: false });
    track.writeRtp(new RtpPacket(header, Buffer.from([0xf8, 0xff, 0xfe])));
  }, 20);
  cleanup.push(async () => {
    clearInterval(timer);
    await pc.close();
  });
}

describe("talk-back's speaker", () => {
  test("an offer that is refused (400) is no talker: the log does not say one stopped talking", async () => {
    const talkback = new TalkBack("hw:9,0", "/bin/false", { iceServers: [], candidates: ["127.0.0.1"], portRange: null });
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      for (const sdp of ["v=0\r\n", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"]) {
        await expect(talkback.open(sdp)).rejects.toThrow();
      }
    } finally {
      process.stderr.write = write;
    }
    expect(lines.filter((l) => /talk-back/.test(l))).toEqual([]);
    expect(talkback.talking).toBe(false);
  });

  test("a speaker ffmpeg that fails is started again while the talker talks", async () => {
    const dir = tempDir();
    const out = join(dir, "played.ogg");
    const talkback = new TalkBack("hw:9,0", flakySpeaker(dir, out), { iceServers: [], candidates: ["127.0.0.1"], portRange: null });
    cleanup.push(() => talkback.closeAll());
    await talker(talkback);
    await waitFor(() => existsSync(join(dir, "failed-once")), 20_000, "the first speaker to be started (and fail)");
    // The talker goes on talking: a second speaker plays it (an Ogg stream, from its headers on).
    await waitFor(() => existsSync(out) && statSync(out).size > 2000, 20_000, "a second speaker playing the talker's packets");
    expect(talkback.talking).toBe(true);
  });
});

/**
 * aiortc (Python WebRTC) listens to a stream's sound from the real CLI:
 * - a "microphone" (the fake ffmpeg's ALSA device: a 660 Hz tone, as ffmpeg's
 *   sine gives it) over vidgear's /offer and over WHEP: the tone's frequency
 *   and level as aiortc decodes them, /state and /metrics about it;
 * - a peer that offers video alone gets video alone;
 * - the microphone unplugged and plugged back in: silence meanwhile (the
 *   listener's sound never stops), the capture restarted with back-off;
 * - a file without sound and --audio source: captured without it, silence;
 * - lip sync: a file whose picture turns white and whose sound beeps at the
 *   same instant each second (--audio source): each flash and its beep mapped
 *   to the sender's wall clock through the RTCP sender reports, as a browser
 *   lines them up; offset target ≤ 80 ms.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ffmpeg, makeClip, tempDir } from "../helpers/ffmpeg.ts";
import { ROOT, startServer, waitFor, type RunningServer } from "../helpers/server.ts";
import { runScript } from "./clients.ts";

setDefaultTimeout(120_000);

const FAKE_FFMPEG = join(ROOT, "test", "fakes", "ffmpeg");
const TONE_HZ = 660;
/** ffmpeg's sine is at 1/8 of full scale: -18 dBFS peak, -21 dBFS RMS. */
const TONE_DB = -21;

interface AudioResult {
  error: string | null;
  status: number;
  answerHasAudio: boolean;
  videoFrames: number;
  audioFrames: number;
  sampleRate: number | null;
  frequencyHz: number | null;
  levelDb: number | null;
  senderReports: { audio: number; video: number };
  flashes: number;
  beeps: number;
  offsetsMs: number[];
}

interface AudioState {
  input: string;
  packets: number;
  silencePackets: number;
  levelDb: number | null;
  listeners: number;
  restarts: number;
  encoderPid: number | null;
}
const audioState = async (server: RunningServer): Promise<AudioState> =>
  ((await (await fetch(`${server.url}/state`)).json()) as { streams: { encoders: { audio: AudioState } }[] }).streams[0]!.encoders.audio;

describe("a microphone (ALSA, the fake ffmpeg's tone)", () => {
  let server: RunningServer;
  const dir = tempDir();
  const micState = join(dir, "mic");
  beforeAll(async () => {
    writeFileSync(micState, "present");
    server = await startServer(
      [
        "--source",
        "testsrc",
        "--width",
        "320",
        "--height",
        "240",
        "--fps",
        "15",
        "--ffmpeg",
        FAKE_FFMPEG,
        "--audio",
        "hw:1,0",
        "--webrtc-candidate",
        "127.0.0.1",
      ],
      { FAKE_MIC_HZ: String(TONE_HZ), FAKE_MIC_STATE: micState },
    );
  });
  afterAll(async () => {
    await server.stop();
  });

  function expectTone(r: AudioResult): void {
    console.log(
      `aiortc ${JSON.stringify({ frequencyHz: r.frequencyHz, levelDb: r.levelDb, audioFrames: r.audioFrames, videoFrames: r.videoFrames, reports: r.senderReports })}`,
    );
    expect(r.error).toBeNull();
    expect(r.answerHasAudio).toBe(true);
    expect(r.sampleRate).toBe(48000);
    expect(r.frequencyHz!).toBeGreaterThan(TONE_HZ - 5);
    expect(r.frequencyHz!).toBeLessThan(TONE_HZ + 5);
    expect(r.levelDb!).toBeGreaterThan(TONE_DB - 3);
    expect(r.levelDb!).toBeLessThan(TONE_DB + 3);
    expect(r.videoFrames).toBeGreaterThan(10);
    expect(r.senderReports.audio).toBeGreaterThan(0);
  }

  test("POST /offer: the tone's frequency and level, and video beside it; /state and /metrics say so", async () => {
    const listening = runScript<AudioResult>("aiortc_audio.py", ["offer", server.url, 10], 60_000);
    let state: AudioState | null = null;
    let metrics = "";
    // Read while the listener listens (and /metrics right after that /state).
    await waitFor(
      async () => {
        state = await audioState(server);
        metrics = await (await fetch(`${server.url}/metrics`)).text();
        return state.listeners === 1 && state.packets > 0 && state.levelDb !== null && /^glasscast_audio_listeners\{stream="main"\} 1$/m.test(metrics);
      },
      20_000,
      "a listener, packets and a level in /state and /metrics",
    );
    expect(state!).toMatchObject({ input: "alsa:hw:1,0", listeners: 1, restarts: 0 });
    expect(state!.encoderPid).toBeGreaterThan(0);
    expect(state!.levelDb!).toBeGreaterThan(TONE_DB - 3);
    expect(metrics).toMatch(/^glasscast_audio_listeners\{stream="main"\} 1$/m);
    expect(metrics).toMatch(/^glasscast_audio_packets_total\{stream="main"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^glasscast_audio_level_dbfs\{stream="main"\} -2\d(\.\d)?$/m);
    expectTone(await listening);
  });

  test("WHEP: the same sound", async () => {
    const r = await runScript<AudioResult>("aiortc_audio.py", ["whep", server.url, 5], 60_000);
    expect(r.status).toBe(201);
    expectTone(r);
  });

  test("a peer whose offer has no audio gets video alone", async () => {
    const r = await runScript<AudioResult>("aiortc_audio.py", ["video-only", server.url, 3], 60_000);
    expect(r.error).toBeNull();
    expect(r.answerHasAudio).toBe(false);
    expect(r.videoFrames).toBeGreaterThan(10);
  });

  test("unplugged, then plugged back in: silence meanwhile, the capture restarted, the tone again", async () => {
    const listening = runScript<AudioResult>("aiortc_audio.py", ["offer", server.url, 12], 60_000);
    await waitFor(async () => (await audioState(server)).listeners === 1 && (await audioState(server)).packets > 0, 20_000, "sound flowing");
    const before = await audioState(server);
    writeFileSync(micState, "unplugged");
    await waitFor(async () => (await audioState(server)).restarts >= 1, 20_000, "the capture to fail and restart");
    await waitFor(async () => (await audioState(server)).silencePackets >= before.silencePackets + 25, 20_000, "half a second of silence");
    writeFileSync(micState, "present");
    const gone = await audioState(server);
    await waitFor(async () => (await audioState(server)).packets > gone.packets + 25, 30_000, "the tone again");
    expect(server.stderr()).toMatch(/audio\[main\]: hw:1,0 failed \(ffmpeg exited with 1: hw:1,0: Input\/output error\); silence meanwhile, restarting in 1 s/);
    const r = await listening;
    expect(r.error).toBeNull();
    // 12 s of 20 ms frames, with or without the microphone: no gap longer than the pauses of a loaded machine.
    expect(r.audioFrames).toBeGreaterThan(12 * 50 * 0.7);
  });
});

describe("lip sync (--audio source: a white flash and a beep at the same instant, each second)", () => {
  let server: RunningServer;
  beforeAll(async () => {
    const clip = join(tempDir(), "flash-beep.mkv");
    ffmpeg([
      "-y",
      "-f",
      "lavfi",
      "-i",
      "color=c=black:s=320x240:r=30,drawbox=c=white:t=fill:enable='lt(mod(t,1),0.03)'",
      "-f",
      "lavfi",
      "-i",
      "aevalsrc='if(lt(mod(t,1),0.1),0.5*sin(2*PI*1000*t),0)':s=48000",
      "-t",
      "10",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-g",
      "30",
      "-c:a",
      "pcm_s16le",
      clip,
    ]);
    server = await startServer(["--source", clip, "--loop", "--audio", "source", "--webrtc-candidate", "127.0.0.1"]);
  });
  afterAll(async () => {
    await server.stop();
  });

  test("each flash and its beep, by the sender reports, at most 80 ms apart (median)", async () => {
    const r = await runScript<AudioResult>("aiortc_audio.py", ["offer", server.url, 10], 60_000);
    expect(r.error).toBeNull();
    const sorted = [...r.offsetsMs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(
      `lip sync: ${r.flashes} flashes, ${r.beeps} beeps, offsets (beep − flash) ${r.offsetsMs.join(", ")} ms; median ${median} ms, spread ${sorted[0]}…${sorted.at(-1)} ms`,
    );
    expect(r.offsetsMs.length).toBeGreaterThanOrEqual(5);
    expect(Math.abs(median)).toBeLessThanOrEqual(80);
  });
});

test("--audio source on a file without sound: captured without it at once, one warning, silence to listeners", async () => {
  const clip = makeClip(tempDir(), 4);
  const server = await startServer(["--source", clip, "--loop", "--audio", "source", "--webrtc-candidate", "127.0.0.1"]);
  try {
    const r = await runScript<AudioResult>("aiortc_audio.py", ["offer", server.url, 4], 60_000);
    expect(r.error).toBeNull();
    expect(r.videoFrames).toBeGreaterThan(20);
    expect(r.answerHasAudio).toBe(true);
    expect(r.audioFrames).toBeGreaterThan(4 * 50 * 0.6); // silence, in time
    const warnings = server
      .stderr()
      .split("\n")
      .filter((l) => l.includes("has no audio track; --audio source gives silence"));
    expect(warnings.length).toBe(1);
    // ffmpeg's own words for it are the reason, kept for the debug log: not a second warning.
    expect(
      server
        .stderr()
        .split("\n")
        .filter((l) => / warn /.test(l) && l.includes("matches no streams")),
    ).toEqual([]);
    const state = ((await (await fetch(`${server.url}/state`)).json()) as { streams: { restarts: number; encoders: { audio: AudioState } }[] }).streams[0]!;
    expect(state.restarts).toBe(0);
    expect(state.encoders.audio.packets).toBe(0);
    expect(state.encoders.audio.silencePackets).toBeGreaterThan(0);
  } finally {
    await server.stop();
  }
});

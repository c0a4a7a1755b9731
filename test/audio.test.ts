/**
 * The pieces of --audio on their own: the Ogg reader on real ffmpeg output
 * (libopus), the Opus packet durations, the NTP times of the sender reports,
 * and every wrong --audio refused at startup with a message naming it.
 */
import { describe, expect, test } from "bun:test";
import { OggOpusReader, opusSamples, OPUS_SILENCE_20MS } from "../src/media/opus/ogg-opus.ts";
import { alsaOpusArgs, levelOf, opusOutputArgs } from "../src/sources/audio/opus-args.ts";
import { audioInputsOf, parseAudioValue } from "../src/sources/audio/audio-input.ts";
import { ntpOf } from "../src/outputs/webrtc/sender-clock.ts";
import { ffmpeg } from "./helpers/ffmpeg.ts";
import { CLI } from "./helpers/server.ts";

describe("Ogg Opus from ffmpeg", () => {
  // Two seconds of a tone through the very arguments the server uses (the level branch included).
  const args = opusOutputArgs("0:a:0", "pipe:1");
  const ogg = ffmpeg(["-f", "lavfi", "-t", "2", "-i", "sine=frequency=440:sample_rate=44100", ...args]);

  test("every packet is 20 ms of Opus; the headers are skipped; 2 s give 100 packets", () => {
    const packets = new OggOpusReader().push(ogg);
    expect(packets.length).toBeGreaterThanOrEqual(99);
    expect(packets.length).toBeLessThanOrEqual(101);
    expect(packets.every((p) => opusSamples(p) === 960)).toBe(true);
    expect(new TextDecoder().decode(packets[0]!.slice(0, 8))).not.toBe("OpusHead");
  });

  test("bytes cut anywhere (a pipe's reads) give the same packets", () => {
    const whole = new OggOpusReader().push(ogg);
    const reader = new OggOpusReader();
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < ogg.length; at += 7) pieces.push(...reader.push(ogg.subarray(at, Math.min(ogg.length, at + 7))));
    expect(pieces.length).toBe(whole.length);
    expect(pieces.every((p, i) => Buffer.from(p).equals(Buffer.from(whole[i]!)))).toBe(true);
  });

  test("the silence packet is 20 ms", () => {
    expect(opusSamples(OPUS_SILENCE_20MS)).toBe(960);
  });
});

test("a level reading is read from ffmpeg's metadata line; other lines are not one", () => {
  expect(levelOf("lavfi.astats.Overall.RMS_level=-21.063013")).toBeCloseTo(-21.063, 3);
  expect(levelOf("lavfi.astats.Overall.RMS_level=-inf")).toBe(-Infinity);
  expect(levelOf("frame:3    pts:3072    pts_time:0.064")).toBeNull();
  expect(alsaOpusArgs("ffmpeg", "hw:1,0")).toContain("hw:1,0");
});

test("NTP times: seconds since 1900 and a true binary fraction", () => {
  const ntp = ntpOf(Date.UTC(2026, 0, 1, 0, 0, 0, 500));
  expect(Number(ntp >> 32n)).toBe(Date.UTC(2026, 0, 1) / 1000 + 2_208_988_800);
  expect(Number(ntp & 0xffffffffn) / 2 ** 32).toBeCloseTo(0.5, 6);
});

describe("--audio values", () => {
  const one = new Map([["main", "file"]]);
  test("none, source and ALSA names", () => {
    expect(parseAudioValue("none")).toBeNull();
    expect(parseAudioValue("source")).toEqual({ kind: "source" });
    for (const d of ["hw:1,0", "plughw:1,0", "default", "plughw:CARD=Mic,DEV=0", "sysdefault:CARD=Device"]) {
      expect(parseAudioValue(d)).toEqual({ kind: "alsa", device: d });
    }
    expect(audioInputsOf(["plughw:CARD=Mic,DEV=0"], one).get("main")).toEqual({ kind: "alsa", device: "plughw:CARD=Mic,DEV=0" });
  });
  test("named per stream", () => {
    const two = new Map([["door", "v4l2"], ["clip", "file"]]);
    const inputs = audioInputsOf(["door=hw:1,0", "clip=source"], two);
    expect(inputs.get("door")).toEqual({ kind: "alsa", device: "hw:1,0" });
    expect(inputs.get("clip")).toEqual({ kind: "source" });
    expect(() => audioInputsOf(["hw:1,0"], two)).toThrow(/needs a stream name/);
    expect(() => audioInputsOf(["door=source"], two)).toThrow(/v4l2 source, which has no audio track/);
    expect(() => audioInputsOf(["door=hw:1,0", "door=none"], two)).toThrow(/given audio twice/);
  });
});

describe("a wrong --audio stops the program with a message naming it", () => {
  const cases: [string[], RegExp][] = [
    [["--source", "testsrc", "--audio", "source"], /--audio: stream "main" is a testsrc source, which has no audio track/],
    [["--source", "testsrc", "--audio", "hw 1,0; rm"], /--audio: "hw 1,0; rm" is not an audio input; expected none, source, or an ALSA capture device/],
    [["--source", "testsrc", "--audio", "hw:1,0", "--no-webrtc"], /--audio: the sound is sent over WebRTC, which --no-webrtc turns off/],
    [["--source", "a=testsrc", "--source", "b=testsrc", "--audio", "c=hw:1,0"], /--audio: "c=hw:1,0" needs a stream name|there is no stream "c"/],
  ];
  test.each(cases)("%p", (args, message) => {
    const r = Bun.spawnSync([process.execPath, "run", CLI, "--port", "0", "--rtsp-port", "0", ...args], { stdout: "pipe", stderr: "pipe", timeout: 20_000 });
    expect(r.exitCode).toBe(2);
    const err = r.stderr.toString();
    expect(err).toMatch(message);
    expect(err).not.toMatch(/at .*\.ts:\d+/); // no stack
  });
});

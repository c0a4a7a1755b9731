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
import { AudioFeed } from "../src/stream/audio-feed.ts";
import { listAlsa } from "../src/devices/alsa.ts";
import { join } from "node:path";
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
    const two = new Map([
      ["door", "v4l2"],
      ["clip", "file"],
    ]);
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
    [
      ["--source", "testsrc", "--audio", "hw:1,0", "--no-webrtc"],
      /--audio: the sound is sent over WebRTC and RTSP, which --no-webrtc and --rtsp-port 0 turn off/,
    ],
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

describe("a stream's sound is stamped once, on the pictures' clock", () => {
  // 3 s of real Opus packets (20 ms each), fed to the feed's tap with a clock of the test's own.
  const packets = new OggOpusReader().push(
    ffmpeg(["-f", "lavfi", "-t", "3", "-i", "sine=frequency=440:sample_rate=48000", ...opusOutputArgs("0:a:0", "pipe:1")]),
  );
  function stamp(arrivals: readonly number[]): number[] {
    let now = 0;
    const feed = new AudioFeed("t", { kind: "source" }, { ffmpeg: "ffmpeg", lingerMs: 0, backoff: { initialMs: 1, maxMs: 1 }, now: () => now });
    const stamps: number[] = [];
    feed.subscribe((p) => stamps.push(p.timestamp));
    const tap = feed.tap();
    tap.begin(1);
    const ogg = new OggOpusWriter();
    arrivals.forEach((at, i) => {
      now = at;
      tap.write(ogg.page(packets[i % packets.length]!));
    });
    return stamps;
  }

  test("a busy machine's late packets and bursts keep the sound continuous: 960 samples apart, none twice", () => {
    // Every 20 ms from 1000 ms, each delayed by up to 30 ms, and a burst of five at once.
    const arrivals = Array.from({ length: 100 }, (_, i) => 1000 + i * 20 + ((i * 7919) % 31));
    for (let i = 40; i < 45; i++) arrivals[i] = arrivals[45]!;
    const stamps = stamp(arrivals);
    expect(stamps.length).toBe(100);
    const steps = stamps.slice(1).map((s, i) => (s - stamps[i]!) >>> 0);
    // Continuous except where a window moved the anchor (at most once per 2 s).
    expect(steps.filter((d) => d !== 960).length).toBeLessThanOrEqual(1);
    expect(new Set(stamps).size).toBe(100);
    // On the clock: the least lateness ends within 5 ms of the packets' real pace (1000 ms + 20 ms each).
    const last = stamps.at(-1)!;
    expect(Math.abs(last / 48 - (1000 + 99 * 20))).toBeLessThanOrEqual(5 + 30);
  });

  test("a microphone whose clock is 0.5 % slow is followed: the anchor moves later, never past the packets' arrival", () => {
    const arrivals = Array.from({ length: 150 }, (_, i) => 1000 + i * 20.1);
    const stamps = stamp(arrivals);
    const drift = arrivals.at(-1)! - stamps.at(-1)! / 48;
    expect(drift).toBeGreaterThanOrEqual(-1);
    // Corrected every 2 s by the least lateness: behind by at most 5 ms plus one window's drift (2 s × 0.5 % = 10 ms).
    expect(drift).toBeLessThanOrEqual(16);
  });

  test("after a gap (a restart) the next packet is anchored at its arrival", () => {
    const stamps = stamp([1000, 1020, 1040, 5000, 5020]);
    expect(stamps[3]! / 48).toBeCloseTo(5000, 0);
    expect((stamps[4]! - stamps[3]!) >>> 0).toBe(960);
  });
});

/** Ogg pages around single Opus packets (after the two header pages), as ffmpeg writes them with -page_duration 20000. */
class OggOpusWriter {
  #seq = 0;
  #started = false;
  page(packet: Uint8Array): Uint8Array {
    const pages: Uint8Array[] = [];
    if (!this.#started) {
      this.#started = true;
      pages.push(
        this.#one(new TextEncoder().encode("OpusHead\x01\x01\x00\x00\x80\xbb\x00\x00\x00\x00\x00"), 2),
        this.#one(new TextEncoder().encode("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00"), 0),
      );
    }
    pages.push(this.#one(packet, 0));
    return Buffer.concat(pages);
  }
  #one(packet: Uint8Array, flags: number): Uint8Array {
    const lacing: number[] = [];
    let left = packet.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);
    const header = Buffer.alloc(27 + lacing.length);
    header.write("OggS", 0, "latin1");
    header[5] = flags;
    header.writeUInt32LE(this.#seq++, 18);
    header[26] = lacing.length;
    lacing.forEach((l, i) => {
      header[27 + i] = l;
    });
    return Buffer.concat([header, packet]);
  }
}

describe("glasscast devices lists the microphones", () => {
  const fixture = join(import.meta.dir, "fixtures", "devices", "asound-usb-mic");
  test("from /proc/asound: capture devices only, named by their card, with the --audio to give", () => {
    expect(listAlsa(fixture).devices).toEqual([
      { card: 1, device: 0, name: "USB PnP Sound Device", audio: "hw:1,0" },
      { card: 2, device: 0, name: "Loopback", audio: "hw:2,0" },
    ]);
    expect(listAlsa(join(fixture, "nowhere"))).toMatchObject({ found: false, devices: [] });
  });
  test("the command prints them (GLASSCAST_ASOUND: the fixture instead of /proc/asound)", () => {
    const r = Bun.spawnSync([process.execPath, "run", CLI, "devices"], {
      stdout: "pipe",
      stderr: "pipe",
      timeout: 30_000,
      env: { ...process.env, GLASSCAST_ASOUND: fixture, GLASSCAST_V4L2_SYSFS: join(fixture, "no-sysfs") },
    });
    const out = r.stdout.toString();
    expect(out).toContain("ALSA capture devices (microphones)");
    expect(out).toContain("  hw:1,0  USB PnP Sound Device  (use: --audio hw:1,0, or --audio plughw:1,0 to let ALSA convert)");
    expect(out).not.toContain("Headphones");
  });
});

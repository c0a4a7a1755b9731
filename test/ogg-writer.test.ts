/**
 * The Ogg writer of talk-back (src/media/opus/ogg-writer.ts): what it writes
 * reads back with the Ogg reader and with ffmpeg; a payload larger than any
 * Opus packet (one a talker's RTP could carry) is left out instead of
 * written as a page whose lacing count overflows, and the pages after it are
 * still whole.
 */
import { describe, expect, test } from "bun:test";
import { MAX_OPUS_PACKET, OggOpusWriter } from "../src/media/opus/ogg-writer.ts";
import { OggOpusReader, OPUS_SILENCE_20MS } from "../src/media/opus/ogg-opus.ts";

describe("Ogg Opus writer", () => {
  test("headers and packets read back; an oversized payload is left out, the stream stays whole", () => {
    const ogg = new OggOpusWriter();
    const big = new Uint8Array(70_000).fill(7);
    const limit = new Uint8Array(MAX_OPUS_PACKET).fill(9);
    const stream = [ogg.headers(), ogg.packet(OPUS_SILENCE_20MS, 960), ogg.packet(big, 960), ogg.packet(limit, 960), ogg.packet(OPUS_SILENCE_20MS, 960)];
    expect(stream[2]!.length).toBe(0);
    const bytes = new Uint8Array(stream.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of stream) {
      bytes.set(p, at);
      at += p.length;
    }
    const packets = new OggOpusReader().push(bytes);
    expect(packets.map((p) => p.length)).toEqual([OPUS_SILENCE_20MS.length, MAX_OPUS_PACKET, OPUS_SILENCE_20MS.length]);
    expect(packets[1]).toEqual(limit);
    // ffmpeg reads it as Ogg Opus: three packets, no error about the pages.
    const r = Bun.spawnSync(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "ogg", "-i", "pipe:0", "-f", "null", "-"], { stdin: bytes });
    expect(new TextDecoder().decode(r.stderr)).not.toMatch(/crc|checksum|invalid page/i);
  });
});

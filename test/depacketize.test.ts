/**
 * RTP H.264 back into access units (src/sources/whip/depacketize.ts), fed by
 * the project's own packetizer (STAP-A for the small parameter sets, FU-A
 * for the large slices) and by hand-made packets; loss drops pictures up to
 * the next keyframe and asks for one.
 */
import { describe, expect, test } from "bun:test";
import type { AccessUnit } from "../src/media/h264/annexb.ts";
import { packetizeH264 } from "../src/media/h264/rtp-h264.ts";
import { H264Framer } from "../src/sources/frame-parsers.ts";
import { H264Depacketizer, spropParameterSets } from "../src/sources/whip/depacketize.ts";

// A real 320x240 baseline SPS (x264) and a PPS.
const SPS = new Uint8Array([
  0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05, 0x07, 0xec, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0f, 0x03, 0xc5, 0x0a, 0xa8,
]);
const PPS = new Uint8Array([0x68, 0xce, 0x0f, 0xc8]);

function slice(type: 1 | 5, size: number, fill: number): Uint8Array {
  const nal = new Uint8Array(size).fill(fill);
  nal[0] = type === 5 ? 0x65 : 0x41;
  nal[1] = 0x88; // first_mb_in_slice = 0
  return nal;
}

function idr(fill = 1): AccessUnit {
  return { nals: [SPS, PPS, slice(5, 5000, fill)], keyframe: true };
}
function p(fill = 2): AccessUnit {
  return { nals: [slice(1, 1500, fill)], keyframe: false };
}

/** Sends access units as RTP through `d`, numbering the packets; `drop` skips those sequence numbers. */
function send(d: H264Depacketizer, aus: AccessUnit[], drop = new Set<number>(), start = 100): AccessUnit[] {
  const out: AccessUnit[] = [];
  let seq = start;
  aus.forEach((au, i) => {
    const payloads = packetizeH264(au);
    payloads.forEach((payload, k) => {
      if (!drop.has(seq)) out.push(...d.push(payload, seq & 0xffff, 3000 * i, k === payloads.length - 1));
      seq++;
    });
  });
  return out;
}

describe("H.264 depacketizer", () => {
  test("STAP-A and FU-A come back as the very NAL units sent, one access unit per marker", () => {
    const d = new H264Depacketizer();
    const sent = [idr(), p(3), p(4)];
    const got = send(d, sent);
    expect(got.length).toBe(3);
    expect(got.map((au) => au.keyframe)).toEqual([true, false, false]);
    got.forEach((au, i) => expect(au.nals).toEqual(sent[i]!.nals));
    expect(d.dropped).toBe(0);
  });

  test("pictures before the first keyframe are dropped; so is everything after a loss until a keyframe, and a keyframe is asked for", () => {
    let asked = 0;
    const d = new H264Depacketizer(() => asked++);
    expect(send(d, [p(), p()], new Set(), 10)).toEqual([]);
    // IDR, P, P (2 FU-A each), IDR, P: lose the first P's second packet.
    const sent = [idr(), p(5), p(6), idr(7), p(8)];
    const start = 14;
    const got = send(d, sent, new Set([start + packetizeH264(idr()).length + 1]), start);
    expect(got.map((au) => au.nals.at(-1)![2])).toEqual([1, 7, 8]);
    expect(asked).toBe(1);
    expect(d.waitingForKeyframe).toBe(false);
  });

  test("a sender without marker bits: the timestamp change ends the picture; repeats and late packets are ignored", () => {
    const d = new H264Depacketizer();
    const a = slice(5, 50, 1);
    const b = slice(1, 50, 2);
    expect(d.push(SPS, 1, 0, false)).toEqual([]);
    expect(d.push(PPS, 2, 0, false)).toEqual([]);
    expect(d.push(a, 3, 0, false)).toEqual([]);
    expect(d.push(a, 3, 0, false)).toEqual([]); // a repeat
    const first = d.push(b, 4, 3000, false);
    expect(first).toEqual([{ nals: [SPS, PPS, a], keyframe: true }]);
    expect(d.push(a, 2, 0, true)).toEqual([]); // late
    // The next timestamp ends the picture of 3000; the marker ends the one of 6000.
    expect(d.push(b, 5, 6000, true)).toEqual([
      { nals: [b], keyframe: false },
      { nals: [b], keyframe: false },
    ]);
  });

  test("garbage payloads never throw and never come out as pictures", () => {
    const d = new H264Depacketizer();
    const junk = [
      new Uint8Array([24, 0xff, 0xff, 0x65]),
      new Uint8Array([28]),
      new Uint8Array([28, 0x05, 1, 2]),
      new Uint8Array([0x1d, 1, 2]),
      new Uint8Array(0),
    ];
    let seq = 0;
    for (const j of junk) expect(d.push(j, seq++, 0, true)).toEqual([]);
    const got = send(d, [idr()], new Set(), seq);
    expect(got.length).toBe(1);
  });

  test("sprop-parameter-sets seed the framer: a keyframe sent without SPS/PPS gets them, and the picture size", () => {
    const b64 = (n: Uint8Array) => Buffer.from(n).toString("base64");
    const sdp = `v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=fmtp:96 packetization-mode=1;profile-level-id=42c00d;sprop-parameter-sets=${b64(SPS)},${b64(PPS)}\r\n`;
    const sets = spropParameterSets(sdp);
    expect(sets).toEqual([SPS, PPS]);
    const framer = new H264Framer();
    framer.seed(sets);
    const frame = framer.frame({ nals: [slice(5, 20, 1)], keyframe: true });
    expect([frame.width, frame.height, frame.keyframe]).toEqual([320, 240, true]);
    expect([...frame.data.subarray(0, 5)]).toEqual([0, 0, 0, 1, 0x67]);
  });
});

describe("a picture past the size bound", () => {
  test("FU-A fragments that never end are not kept past the bound; the picture is dropped and the next keyframe comes through", () => {
    const losses: number[] = [];
    const d = new H264Depacketizer(() => losses.push(1), 100_000);
    expect(send(d, [idr()], new Set(), 1).length).toBe(1);
    const next = 1 + packetizeH264(idr()).length;
    const middle = new Uint8Array(10_002).fill(7);
    middle[0] = 0x7c; // FU-A, NRI 3
    middle[1] = 0x85; // start of an IDR slice
    let peak = 0;
    for (let i = 0; i < 100; i++) {
      d.push(middle, next + i, 9000, false);
      middle[1] = 0x05; // then middles, never the end
      peak = Math.max(peak, d.buffered);
    }
    expect(peak).toBeLessThanOrEqual(100_000);
    expect(d.buffered).toBe(0);
    // The next picture (a new timestamp) ends the damaged one: counted as dropped, a keyframe asked for.
    const after = send(d, [idr(3)], new Set(), next + 100).map((au) => au.keyframe);
    expect(d.dropped).toBe(1);
    expect(losses.length).toBe(1);
    expect(after).toEqual([true]);
  });
});

/**
 * The RTSP server's pieces on their own: the request reader (byte by byte,
 * pipelined, mixed with interleaved frames, bounded), request URIs as
 * different clients write them, the SDP, the shared RTP packets stamped per
 * client, and Digest as RFC 2617 computes it.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { CredentialList } from "../src/access/credentials.ts";
import { LoginLimiter } from "../src/access/rate-limit.ts";
import { ViewerTokens } from "../src/access/tokens.ts";
import { NAL } from "../src/media/h264/annexb.ts";
import { parseDigest, REALM, RtspAccess } from "../src/outputs/rtsp/auth.ts";
import { MAX_BODY_BYTES, RtspReader, type Incoming } from "../src/outputs/rtsp/message.ts";
import { rtpPacketsOf, stamp } from "../src/outputs/rtsp/rtp-packets.ts";
import { describeSdp, parameterSetsOf, trackControl } from "../src/outputs/rtsp/sdp.ts";
import { parseTarget, uriForLog } from "../src/outputs/rtsp/target.ts";
import { redactUrl } from "../src/redact.ts";

const requests = (messages: Incoming[]) =>
  messages.map((m) => (m.type === "request" ? `${m.request.method} ${m.request.uri} ${new TextDecoder().decode(m.request.body)}` : m.type));

describe("RtspReader", () => {
  const text = "OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\n\r\n" + "SET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 6\r\n\r\n\r\nab\r\n";

  test("a byte at a time or all at once: the same requests, bodies whole (even one that starts with CRLF)", () => {
    const whole = new RtspReader().push(Buffer.from(text));
    const reader = new RtspReader();
    const bytewise: Incoming[] = [];
    for (const byte of Buffer.from(text)) bytewise.push(...reader.push(Uint8Array.of(byte)));
    expect(requests(whole)).toEqual(["OPTIONS rtsp://h/ ", "SET_PARAMETER rtsp://h/ \r\nab\r\n"]);
    expect(requests(bytewise)).toEqual(requests(whole));
  });

  test("interleaved frames between requests; headers case-insensitive, repeated ones joined", () => {
    const frame = Buffer.from([0x24, 1, 0, 3, 0x81, 0xc9, 0]);
    const out = new RtspReader().push(Buffer.concat([frame, Buffer.from("GET_PARAMETER rtsp://h/ RTSP/1.0\r\ncseq: 3\r\nX-A: 1\r\nx-a: 2\r\n\r\n")]));
    expect(out[0]).toEqual({ type: "interleaved", channel: 1, data: Uint8Array.of(0x81, 0xc9, 0) });
    const req = out[1]!.type === "request" ? out[1]!.request : null;
    expect(req?.headers.get("cseq")).toBe("3");
    expect(req?.headers.get("x-a")).toBe("1, 2");
  });

  test("unreadable input is an error once, then nothing more is read", () => {
    const r = new RtspReader();
    expect(r.push(Buffer.from("HELLO\r\n\r\n"))).toEqual([
      { type: "error", status: 400, reason: "not an RTSP request line (METHOD URI RTSP/1.0)", cseq: null },
    ]);
    expect(r.push(Buffer.from(text))).toEqual([]);
    const big = new RtspReader().push(Buffer.from(`SET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 9\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n`));
    expect(big).toEqual([{ type: "error", status: 413, reason: `a body over ${MAX_BODY_BYTES} bytes`, cseq: "9" }]);
  });
});

describe("request URIs", () => {
  test("ffmpeg's and GStreamer's track URLs with a token name the same stream, track and token", () => {
    const forms = ["rtsp://h:8554/cam?token=T/trackID=0", "rtsp://h:8554/cam/trackID=0?token=T", "/cam/trackID=0?token=T"];
    for (const uri of forms) expect(parseTarget(uri)).toEqual({ name: "cam", track: true, token: "T" });
    expect(parseTarget("rtsp://user:pw@h:8554/")).toEqual({ name: "", track: false, token: null });
    expect(parseTarget("rtsp://h/trackID=0")).toEqual({ name: "", track: true, token: null });
    expect(parseTarget("http://h/cam")).toBeNull();
    expect(parseTarget("rtsp://h/%E0%A4%A")).toBeNull();
  });

  test("the track control keeps the query; logs show neither the password nor the token", () => {
    expect(trackControl("rtsp://h:8554/cam?token=T")).toBe("rtsp://h:8554/cam/trackID=0?token=T");
    expect(trackControl("rtsp://h:8554/")).toBe("rtsp://h:8554/trackID=0");
    expect(uriForLog("rtsp://admin:secret@h:8554/cam?token=T")).toBe(redactUrl("rtsp://admin:secret@h:8554/cam?token=T"));
    expect(uriForLog("rtsp://admin:secret@h:8554/cam?token=T")).not.toMatch(/secret|=T/);
    expect(uriForLog("/cam?token=T")).toBe("/cam");
  });
});

describe("SDP and RTP", () => {
  const sps = Uint8Array.of(0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01);
  const pps = Uint8Array.of(0x68, 0xce, 0x3c, 0x80);
  const idr = new Uint8Array(3000).fill(0xab);
  idr[0] = 0x65;
  const au = { nals: [Uint8Array.of(0x09, 0xf0), sps, pps, idr], keyframe: true };

  test("sprop-parameter-sets and profile-level-id come from the SPS", () => {
    const sdp = describeSdp({ address: "127.0.0.1", name: "cam", sets: parameterSetsOf(au), sessionId: 1, control: "rtsp://h/cam/trackID=0" });
    expect(sdp).toContain(
      `a=fmtp:96 packetization-mode=1;profile-level-id=42c01f;sprop-parameter-sets=${Buffer.from(sps).toString("base64")},${Buffer.from(pps).toString("base64")}\r\n`,
    );
    expect(sdp).toContain("a=control:rtsp://h/cam/trackID=0\r\n");
  });

  test("an access unit's packets are made once; stamping writes only the client's fields", () => {
    const packets = rtpPacketsOf(au);
    expect(rtpPacketsOf(au)).toBe(packets); // cached per access unit
    // AUD dropped; SPS + PPS in a STAP-A; the 3000-byte IDR in three FU-A fragments.
    expect(packets.udp.map((p) => p[12]! & 0x1f)).toEqual([NAL.STAP_A, NAL.FU_A, NAL.FU_A, NAL.FU_A]);
    const next = stamp(packets, 4, 0xfffe, 0x12345678, 0xdeadbeef);
    expect(next).toBe(2); // wrapped
    const view = (p: Uint8Array) => new DataView(p.buffer, p.byteOffset, p.byteLength);
    expect(packets.udp.map((p) => view(p).getUint16(2))).toEqual([0xfffe, 0xffff, 0, 1]);
    expect(packets.udp.map((p) => p[1]! & 0x80)).toEqual([0, 0, 0, 0x80]); // marker on the last
    for (const p of packets.udp) {
      expect(view(p).getUint32(4)).toBe(0x12345678);
      expect(view(p).getUint32(8)).toBe(0xdeadbeef);
      expect(p[1]! & 0x7f).toBe(96);
    }
    for (const o of packets.offsets) expect([packets.bytes[o], packets.bytes[o + 1]]).toEqual([0x24, 4]);
    const before = Buffer.from(packets.bytes);
    stamp(packets, 0, 7, 1, 2);
    // Another client's stamp changes the header fields and nothing else.
    let changed = 0;
    for (let i = 0; i < before.length; i++) if (before[i] !== packets.bytes[i]) changed++;
    expect(changed).toBeLessThanOrEqual(packets.offsets.length * 11);
  });
});

describe("Digest (RFC 2617, MD5)", () => {
  const md5 = (s: string) => createHash("md5").update(s).digest("hex");
  const make = () => {
    const limiter = new LoginLimiter();
    const access = new RtspAccess({
      admins: new CredentialList(["admin:secret"]),
      auth: ["admin:secret"],
      tokens: new ViewerTokens([], null),
      limiter,
      protected: true,
    });
    return { access, limiter };
  };
  const answer = (challenge: string, password: string, qop: boolean) => {
    const nonce = parseDigest(challenge)!.get("nonce")!;
    const uri = "rtsp://h/cam";
    const ha1 = md5(`admin:${REALM}:${password}`);
    const ha2 = md5(`DESCRIBE:${uri}`);
    const response = qop ? md5(`${ha1}:${nonce}:00000001:abc:auth:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
    return `Digest username="admin", realm="${REALM}", nonce="${nonce}", uri="${uri}", response="${response}"${qop ? ', qop=auth, nc=00000001, cnonce="abc"' : ""}`;
  };

  test("the right password passes with and without qop; a wrong one or a forged nonce fails and counts", async () => {
    const { access, limiter } = make();
    const challenge = access.challenges()["WWW-Authenticate"]![0]!;
    const check = (authorization: string | null) => access.check({ method: "DESCRIBE", authorization, token: null, stream: "cam", address: "10.0.0.1" });
    expect(await check(answer(challenge, "secret", false))).toEqual({ ok: true });
    expect(await check(answer(challenge, "secret", true))).toEqual({ ok: true });
    expect((await check(answer(challenge, "wrong", false))).ok).toBe(false);
    const forged = answer(challenge, "secret", false).replace(/nonce="[0-9a-f]+"/, `nonce="${"0".repeat(40)}"`);
    expect((await check(forged)).ok).toBe(false);
    expect(limiter.retryAfterMs("10.0.0.1")).toBe(0);
    for (let i = 0; i < 3; i++) await check(answer(challenge, "wrong", false));
    expect(limiter.retryAfterMs("10.0.0.1")).toBeGreaterThan(0);
    expect(await check(answer(challenge, "secret", false))).toMatchObject({ ok: false, status: 429 });
  });
});

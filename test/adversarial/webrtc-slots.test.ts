/**
 * WebRTC slots cannot be taken for nothing (issue 10, item 8): a used-up
 * --webrtc-port-range answers 503 like --webrtc-max-peers (it answered 200 with an
 * SDP without candidates), offers that never connect are capped per address
 * and dropped sooner, and the media sockets bind where the candidates say
 * (0.0.0.0 even with --webrtc-candidate 127.0.0.1 before). In process: the
 * peers' sockets are this process's, and every offer comes from one client.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { MAX_PENDING_PER_ADDRESS } from "../../src/outputs/webrtc/sessions.ts";
import { waitFor } from "../helpers/server.ts";
import { bodyOf, browserOffer, expectNoLeak, inProcess } from "./helpers.ts";

setDefaultTimeout(60_000);

let offer: Awaited<ReturnType<typeof browserOffer>>;
beforeAll(async () => {
  offer = await browserOffer();
});
afterAll(async () => {
  await offer?.close();
});

const post = (gc: Awaited<ReturnType<typeof inProcess>>, path = "/offer") =>
  gc.ask(path, { method: "POST", body: JSON.stringify({ sdp: offer.sdp, type: "offer" }) });

/** Two free UDP ports in a row, somewhere in 42000–49999. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const base = 42_000 + Math.floor(Math.random() * 7_999);
    try {
      const a = await Bun.udpSocket({ hostname: "127.0.0.1", port: base });
      const b = await Bun.udpSocket({ hostname: "127.0.0.1", port: base + 1 });
      a.close();
      b.close();
      return base;
    } catch {
      /* taken: another pair */
    }
  }
}

/** The local address of this process's UDP socket on `port`, from /proc/self/net/udp ("0100007F" is 127.0.0.1). */
function udpLocalAddress(port: number): string | null {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const line = readFileSync("/proc/self/net/udp", "utf8")
    .split("\n")
    .find((l) => l.trim().split(/\s+/)[1]?.endsWith(`:${hex}`));
  return line?.trim().split(/\s+/)[1]?.split(":")[0] ?? null;
}

describe("WebRTC slots", () => {
  test("a --webrtc-port-range of two ports holds two viewers; the third offer gets 503 with Retry-After", async () => {
    const base = await freePortPair();
    const gc = await inProcess({ webrtcPortRange: `${base}-${base + 1}`, webrtcMaxPeers: 50 });
    try {
      for (let i = 0; i < 2; i++) expect((await post(gc)).status).toBe(200);
      const third = await post(gc);
      expect(third.status).toBe(503);
      expect(third.headers.get("retry-after")).toBe("5");
      expectNoLeak(await bodyOf(third));
      expect(gc.webrtc!.size).toBe(2);
    } finally {
      await gc.close();
    }
  });

  test(`offers that never connect: at most ${MAX_PENDING_PER_ADDRESS} per address, the rest 503; their slots come back by themselves`, async () => {
    const gc = await inProcess({ webrtcMaxPeers: 50 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 50; i++) statuses.push((await post(gc)).status);
      expect(statuses.filter((s) => s === 200).length).toBe(MAX_PENDING_PER_ADDRESS);
      expect(statuses.filter((s) => s === 503).length).toBe(50 - MAX_PENDING_PER_ADDRESS);
      expect(gc.webrtc!.size).toBe(MAX_PENDING_PER_ADDRESS);
      // Dropped at the connect deadline, as a client that went away mid-handshake.
      await waitFor(() => gc.webrtc!.size === 0, 20_000, "the unconnected peers to be dropped");
      expect((await post(gc)).status).toBe(200);
    } finally {
      await gc.close();
    }
  });

  test("with --webrtc-candidate 127.0.0.1 the media sockets bind 127.0.0.1, not every address", async () => {
    const gc = await inProcess({ webrtcCandidate: ["127.0.0.1"] });
    try {
      const res = await post(gc);
      expect(res.status).toBe(200);
      const { sdp } = (await res.json()) as { sdp: string };
      const port = Number(/^a=candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 (\d+) typ host/m.exec(sdp)?.[1]);
      expect(port).toBeGreaterThan(0);
      expect(udpLocalAddress(port)).toBe("0100007F");
    } finally {
      await gc.close();
    }
  });
});

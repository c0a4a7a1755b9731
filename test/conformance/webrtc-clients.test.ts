/**
 * aiortc, a third-party WebRTC stack (Python), watches a running glasscast
 * (the real CLI, testsrc at 320x240, 15 fps) the two ways a program can ask:
 * vidgear's `POST /offer` with JSON, and WHEP (`POST /whep` with
 * application/sdp, answered 201 with a Location). Each decodes the H.264 it
 * receives: frames, size, and the rate by aiortc's own clock.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startServer, waitFor, type RunningServer } from "../helpers/server.ts";
import { rateBounds, runScript, steadyRate, type ClientResult } from "./clients.ts";

setDefaultTimeout(90_000);

const FPS = 15;
const WIDTH = 320;
const HEIGHT = 240;
/**
 * A new peer is first sent the frames since the last keyframe (up to
 * --h264-keyint, 30), at once: 105 frames leave at least 75 paced ones, and
 * the rate is taken over the last 60 of them (4 s, long enough that a
 * second's stall of a loaded machine leaves it above the lower bound).
 */
const FRAMES = 105;
const RATE_FRAMES = 60;
const { low, high } = rateBounds(FPS);

interface AiortcResult extends ClientResult {
  mode: "offer" | "whep";
  codec: string | null;
  http: Record<string, { status: number; contentType?: string; location?: string; answerType?: string; body?: string }>;
}

const webrtcViewers = async (server: RunningServer): Promise<number> =>
  ((await (await fetch(`${server.url}/api/streams`)).json()) as { streams: { webrtcViewers: number }[] }).streams[0]!.webrtcViewers;

describe("aiortc", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--width", String(WIDTH), "--height", String(HEIGHT), "--fps", String(FPS), "--webrtc-candidate", "127.0.0.1"]);
  });
  afterAll(async () => {
    await server.stop();
  });

  function expectVideo(r: AiortcResult): number {
    expect(r.error).toBeNull();
    expect(r.codec).toBe("video/H264");
    expect(r.frames).toBe(FRAMES);
    expect({ width: r.width, height: r.height }).toEqual({ width: WIDTH, height: HEIGHT });
    const rate = steadyRate(r.times, RATE_FRAMES);
    console.log(
      `aiortc ${r.version} ${r.mode}: ${r.frames} frames, ${r.width}x${r.height}, ${rate.toFixed(2)} fps over its last ${RATE_FRAMES} (source ${FPS})`,
    );
    expect(rate).toBeGreaterThan(low);
    expect(rate).toBeLessThan(high);
    return rate;
  }

  test("POST /offer with vidgear's JSON {sdp, type}: H.264 decoded, untouched by vidgear's unload post; /close_connection with the id ends it", async () => {
    const r = await runScript<AiortcResult>("aiortc_client.py", ["offer", server.url, FRAMES, 40], 60_000);
    expect(r.http.offer).toMatchObject({ status: 200, answerType: "answer" });
    expect(r.http.offer!.contentType).toStartWith("application/json");
    // Halfway, "1" was posted to /close_connection, as vidgear's page does when a tab unloads:
    // it names no peer, and this one kept receiving to the end (expectVideo counts every frame).
    expect(r.http.unload).toMatchObject({ status: 200, body: "OK" });
    expectVideo(r);
    expect(r.http.close).toEqual({ status: 200, body: "OK" });
    await waitFor(async () => (await webrtcViewers(server)) === 0, 10_000, "the peer to be gone");
  });

  test("POST /whep with application/sdp: 201, Location, H.264 decoded; DELETE on the Location ends it", async () => {
    const r = await runScript<AiortcResult>("aiortc_client.py", ["whep", server.url, FRAMES, 40], 60_000);
    expect(r.http.whep).toMatchObject({ status: 201, contentType: "application/sdp" });
    expect(r.http.whep!.location).toMatch(/^\/whep\/session\/[\w-]+$/);
    expectVideo(r);
    expect(r.http.delete).toEqual({ status: 200 });
    await waitFor(async () => (await webrtcViewers(server)) === 0, 10_000, "the WHEP session to be gone");
  });
});

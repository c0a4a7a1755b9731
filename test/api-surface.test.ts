/**
 * The library's public surface (src/index.ts) is pinned here: every name it
 * exports, and the shape of what createGlasscast returns. Programs get plain
 * data and small handles, never the server's own objects; a change here is
 * a change for every program that uses glasscast, so make it on purpose
 * (and say so in docs/library.md).
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import * as api from "../src/index.ts";

setDefaultTimeout(20_000);

/** Every name src/index.ts exports, values and types. */
async function exportedNames(): Promise<string[]> {
  const text = await Bun.file(join(import.meta.dir, "../src/index.ts")).text();
  const names: string[] = [];
  for (const m of text.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const part of m[1]!.split(",")) {
      const name = part
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/)
        .pop()!
        .trim();
      if (name) names.push(name);
    }
  }
  for (const m of text.matchAll(/^export\s+(?:async\s+)?(?:function|const|class|interface|type)\s+(\w+)/gm)) names.push(m[1]!);
  return names.sort();
}

/** True for data a program can keep, copy and serialize: no class instance, no function. */
function plain(value: unknown): boolean {
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return true;
  if (Array.isArray(value)) return value.every(plain);
  if (typeof value !== "object") return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value as object).every(plain);
}

describe("the library's surface", () => {
  test("src/index.ts exports exactly these names", async () => {
    expect(await exportedNames()).toEqual(
      [
        "CustomStream",
        "Frame",
        "FrameError",
        "FrameTransform",
        "Glasscast",
        "GlasscastConfig",
        "JpegFrame",
        "OptionError",
        "Options",
        "PushSource",
        "RawFormat",
        "RawFrame",
        "Source",
        "StreamHandle",
        "StreamState",
        "StreamStats",
        "Transport",
        "UserFrame",
        "ViewerInfo",
        "createGlasscast",
        "createPushSource",
        "framesFrom",
      ].sort(),
    );
    expect(Object.keys(api).sort()).toEqual(["FrameError", "OptionError", "createGlasscast", "createPushSource", "framesFrom"]);
  });

  test("createGlasscast gives plain data and small handles", async () => {
    const push = api.createPushSource("my frames");
    const gc = await api.createGlasscast({ host: "127.0.0.1", port: 0, rtspPort: 0, logLevel: "error", streams: [{ name: "mine", source: push.source }] });
    try {
      expect(Object.keys(gc).sort()).toEqual(["app", "close", "encoderName", "listen", "options", "rtspPort", "streams"]);
      expect(typeof gc.encoderName).toBe("string");
      expect(gc.rtspPort).toBeNull();
      expect(plain(JSON.parse(JSON.stringify(gc.options)))).toBe(true);
      expect(gc.streams).toHaveLength(1);
      const s = gc.streams[0]!;
      expect(Object.keys(s).sort()).toEqual(["addresses", "latestJpeg", "name", "onFrame", "stats", "viewers"]);
      expect(s.name).toBe("mine");
      expect(s.addresses).toEqual({ video: "/video", snapshot: "/snapshot.jpg", view: "/view/mine" });
      expect(s.latestJpeg()).toBeNull();
      expect(s.viewers()).toEqual([]);

      const { port } = gc.listen();
      let frames = 0;
      const off = s.onFrame(() => frames++);
      push.push({ format: "gray", width: 32, height: 16, data: new Uint8Array(32 * 16).fill(128) });
      const deadline = Date.now() + 10_000;
      while (frames === 0 && Date.now() < deadline) await Bun.sleep(10);
      off();
      expect(frames).toBeGreaterThan(0);
      const jpeg = s.latestJpeg();
      expect(jpeg).toBeInstanceOf(Uint8Array);
      expect([jpeg![0], jpeg![1]]).toEqual([0xff, 0xd8]);

      const stats = s.stats();
      expect(plain(stats)).toBe(true);
      expect(Object.keys(stats).sort()).toEqual([
        "capturing",
        "fps",
        "framesCaptured",
        "height",
        "jpegEncodeMsTotal",
        "jpegEncoded",
        "lastFrameAgeMs",
        "name",
        "restarts",
        "source",
        "state",
        "width",
      ]);
      expect(stats).toMatchObject({ name: "mine", source: "my frames", width: 32, height: 16, framesCaptured: 1 });

      // A viewer shows up as plain data, and leaves.
      const controller = new AbortController();
      const video = await fetch(`http://127.0.0.1:${port}/video`, { signal: controller.signal });
      expect(video.status).toBe(200);
      const viewers = s.viewers();
      expect(viewers).toHaveLength(1);
      expect(plain(viewers)).toBe(true);
      expect(Object.keys(viewers[0]!).sort()).toEqual(["address", "frames", "id", "since", "skipped", "transport"]);
      expect(viewers[0]!.transport).toBe("mjpeg");
      controller.abort();
    } finally {
      await gc.close();
    }
  });
});

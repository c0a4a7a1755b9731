/**
 * glasscast inside another Bun program: the same options as the CLI (checked
 * the same way), streams of the program's own frames (iterable or pushed,
 * raw or JPEG), a transform that runs once per frame, extra routes, and
 * custom sources that fail or end without taking the server down.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { TurboJpeg } from "../src/ffi/turbojpeg.ts";
import { createGlasscast, createPushSource, framesFrom, OptionError, type Glasscast, type RawFrame, type UserFrame } from "../src/index.ts";
import { JpegDecoder } from "../src/encoders/jpeg-decoder.ts";
import { readParts } from "./helpers/mjpeg-client.ts";
import { readPartsUntil } from "./helpers/parts-until.ts";
import { ROOT, startProgram, waitFor } from "./helpers/server.ts";

setDefaultTimeout(60_000); // the waits below end as soon as their condition holds; 30 s is for a starved machine

const tj = new TurboJpeg();

async function serve(config: Parameters<typeof createGlasscast>[0], use: (url: string, gc: Glasscast) => Promise<void>) {
  const gc = await createGlasscast({ host: "127.0.0.1", port: 0, logLevel: "error", ...(config?.onDemand ? {} : { alwaysOn: true }), ...config });
  const { port } = gc.listen();
  try {
    await use(`http://127.0.0.1:${port}`, gc);
  } finally {
    await gc.close();
  }
}

function gray(width: number, height: number, level: number): UserFrame {
  return { format: "gray", width, height, data: new Uint8Array(width * height).fill(level) };
}

async function* paced(make: (i: number) => UserFrame, count: number, fps: number): AsyncGenerator<UserFrame> {
  for (let i = 0; i < count; i++) {
    yield make(i);
    await Bun.sleep(1000 / fps);
  }
}

describe("options", () => {
  test("are checked like the CLI's: a bad one throws an OptionError that names it", async () => {
    await expect(createGlasscast({ jpegQuality: 5 })).rejects.toThrow(OptionError);
    await expect(createGlasscast({ jpegQuality: 5 })).rejects.toThrow("jpegQuality (--jpeg-quality): 5 is not allowed; expected an integer from 10 to 100");
    await expect(createGlasscast({ source: ["/nonexistent.mp4"] })).rejects.toThrow("--source");
    const source = framesFrom(paced((i) => gray(64, 64, i), 1, 10));
    await expect(createGlasscast({ streams: [{ name: "bad name!", source }] })).rejects.toThrow("is not a stream name");
  });
});

describe("streams of the program's own frames", () => {
  test("an async iterable of raw frames (here RGB) is served at the producer's pace", async () => {
    const rgb = (i: number): UserFrame => ({ format: "rgb", width: 160, height: 120, data: new Uint8Array(160 * 120 * 3).fill(i * 10) });
    const started = performance.now();
    await serve({ streams: [{ name: "mine", source: framesFrom(paced(rgb, 1000, 20)) }] }, async (url) => {
      const parts = await readPartsUntil(`${url}/video/mine`, (p) => p.length > 20, "21 pictures");
      // 20 fps, not faster: the 21st picture is at least the producer's 21st frame, 20 pauses of 50 ms
      // after its first (less 10% for timer rounding); a busy machine only makes it later.
      expect(parts.at(-1)!.at - started).toBeGreaterThan(900);
      expect(tj.readHeader(parts[0]!.jpeg)).toMatchObject({ width: 160, height: 120 });
      // The first stream also answers at /video.
      expect((await readParts(`${url}/video`, { count: 1, ms: 2000 })).length).toBe(1);
    });
  });

  test("pushed JPEG frames are passed through untouched", async () => {
    const push = createPushSource();
    const jpeg = tj.compressPacked(new Uint8Array(64 * 48 * 3).fill(90), 64, 48, "rgb", "420", 80, 0).slice();
    await serve({ streams: [{ name: "pushed", source: push.source }] }, async (url) => {
      const timer = setInterval(() => push.push({ format: "jpeg", data: jpeg }), 50);
      try {
        const parts = await readParts(`${url}/video`, { count: 3, ms: 3000 });
        expect(parts).toHaveLength(3);
        for (const p of parts) expect(Buffer.from(p.jpeg).equals(Buffer.from(jpeg))).toBe(true);
      } finally {
        clearInterval(timer);
      }
      expect(() => push.push({ format: "rgb", width: 10, height: 10, data: new Uint8Array(5) })).toThrow("a 10x10 rgb frame has 300 bytes, not 5");
    });
  });

  test("a transform runs once per frame before encoding", async () => {
    let calls = 0;
    const flipToWhite = (f: RawFrame) => {
      calls++;
      f.data.fill(255);
    };
    await serve({ source: ["testsrc"], width: 320, height: 240, jpegSubsampling: "gray", transform: flipToWhite }, async (url, gc) => {
      // Three viewers, each until it has 21 pictures (however long a busy machine takes).
      const viewers = await Promise.all([1, 2, 3].map(() => readPartsUntil(`${url}/video`, (p) => p.length > 20, "21 pictures")));
      const captured = gc.streams[0]!.stats().framesCaptured;
      expect(calls).toBeGreaterThan(10);
      expect(calls).toBeLessThanOrEqual(captured); // once per frame, not once per viewer
      // Every picture is the transformed one: all white, so all the same bytes.
      const distinct = new Set(viewers.flat().map((p) => Buffer.from(p.jpeg).toString("base64")));
      expect(distinct.size).toBe(1);
    });
  });

  test("a transform on a source of JPEGs (an MJPEG camera) decodes them first, once per frame", async () => {
    const push = createPushSource();
    const jpeg = tj.compressPacked(new Uint8Array(64 * 48 * 3).fill(90), 64, 48, "rgb", "420", 80, 0).slice();
    const seen: string[] = [];
    const darken = (f: RawFrame) => {
      seen.push(`${f.format} ${f.width}x${f.height}`);
      f.data.fill(16, 0, f.width * f.height);
    };
    await serve({ streams: [{ name: "cam", source: push.source, transform: darken }] }, async (url) => {
      const timer = setInterval(() => push.push({ format: "jpeg", data: jpeg }), 50);
      try {
        const parts = await readParts(`${url}/video`, { count: 3, ms: 3000 });
        expect(parts).toHaveLength(3);
        for (const p of parts) {
          expect(Buffer.from(p.jpeg).equals(Buffer.from(jpeg))).toBe(false); // not the untouched JPEG…
          const { data, width, height } = new JpegDecoder().decode(p.jpeg);
          expect(Math.max(...data.subarray(0, width * height))).toBeLessThan(24); // …but the transformed picture
        }
        expect(seen[0]).toBe("i420 64x48");
      } finally {
        clearInterval(timer);
      }
    });
  });

  test("a source that throws shows NO SIGNAL; one that ends shows END OF STREAM; the server stays up", async () => {
    async function* failing(): AsyncGenerator<UserFrame> {
      yield gray(64, 64, 50);
      await Bun.sleep(200);
      throw new Error("sensor unplugged");
    }
    await serve(
      {
        streams: [
          { name: "failing", source: framesFrom(failing()) },
          { name: "ending", source: framesFrom(paced((i) => gray(64, 64, 100 + i), 3, 10)) },
        ],
      },
      async (url) => {
        const states = async () =>
          ((await (await fetch(`${url}/api/streams`)).json()) as { streams: { name: string; state: string }[] }).streams
            .map((s) => `${s.name} ${s.state}`)
            .join(", ");
        await waitFor(async () => (await states()) === "failing failed, ending ended", 30_000, "failing failed, ending ended");
        for (const name of ["failing", "ending"]) {
          const parts = await readParts(`${url}/video/${name}`, { count: 2, ms: 3000 });
          expect(parts).toHaveLength(2); // the placeholder, repeated
          expect(Buffer.from(parts[0]!.jpeg).equals(Buffer.from(parts[1]!.jpeg))).toBe(true);
        }
      },
    );
  });

  test("a bad frame from an iterable stops that stream with a clear log, not the server", async () => {
    async function* bad(): AsyncGenerator<UserFrame> {
      yield { format: "rgb", width: 10, height: 10, data: new Uint8Array(3) };
    }
    await serve(
      {
        streams: [
          { name: "bad", source: framesFrom(bad()) },
          { name: "good", source: framesFrom(paced((i) => gray(64, 64, i), 100, 10)) },
        ],
      },
      async (url) => {
        // The good stream plays on: 6 pictures, however long a busy machine takes.
        const parts = await readPartsUntil(`${url}/video/good`, (p) => p.length > 5, "6 pictures");
        expect(parts.length).toBeGreaterThan(5);
      },
    );
  });
});

describe("errors in the program's own routes", () => {
  for (const debug of [false, true]) {
    test(`a route that throws answers 500 ${debug ? "with the detail (debug)" : "without any stack trace"}; the server carries on`, async () => {
      const gc = await createGlasscast({ host: "127.0.0.1", port: 0, logLevel: "error", debug, width: 320, height: 240, alwaysOn: true });
      gc.app.get("/boom", () => {
        throw new Error("kaboom");
      });
      const { port } = gc.listen();
      try {
        const page = await fetch(`http://127.0.0.1:${port}/boom`, { headers: { accept: "text/html" } });
        expect(page.status).toBe(500);
        const html = await page.text();
        expect(html).toContain("something went wrong");
        expect(html.includes("kaboom")).toBe(debug);
        expect(html.includes("library.test.ts")).toBe(debug); // the stack trace
        const json = await fetch(`http://127.0.0.1:${port}/boom`, { headers: { accept: "application/json" } });
        expect(json.status).toBe(500);
        expect(((await json.json()) as { detail: string }).detail.includes("kaboom")).toBe(debug);
        expect((await fetch(`http://127.0.0.1:${port}/snapshot.jpg`)).status).toBe(200);
      } finally {
        await gc.close();
      }
    });
  }
});

describe("the examples run as they are", () => {
  const example = (name: string) => startProgram([process.execPath, "run", join(ROOT, "examples", name)], { HOST: "127.0.0.1", PORT: "0" });

  test("custom-frames.ts serves its animation", async () => {
    const p = await example("custom-frames.ts");
    try {
      const parts = await readPartsUntil(`${p.url}/video`, (x) => x.length > 15, "16 pictures");
      expect(tj.readHeader(parts[0]!.jpeg)).toMatchObject({ width: 640, height: 360 });
      expect(Buffer.from(parts[0]!.jpeg).equals(Buffer.from(parts.at(-1)!.jpeg))).toBe(false);
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });

  test("transform.ts serves the mirrored pattern", async () => {
    const p = await example("transform.ts");
    try {
      const parts = await readPartsUntil(`${p.url}/video`, (x) => x.length > 30, "31 pictures");
      expect(tj.readHeader(parts[0]!.jpeg)).toEqual({ width: 640, height: 360, subsampling: "gray" });
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });

  test("extra-route.ts adds /hello and a CORS header to every answer", async () => {
    const p = await example("extra-route.ts");
    try {
      const hello = await fetch(`${p.url}/hello`);
      expect(hello.headers.get("access-control-allow-origin")).toBe("*");
      expect(await hello.json()).toMatchObject({ hello: "from my program" });
      const snap = await fetch(`${p.url}/snapshot.jpg`);
      expect(snap.headers.get("access-control-allow-origin")).toBe("*");
      expect((await readParts(`${p.url}/video`, { count: 3, ms: 3000 })).length).toBe(3);
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });
});

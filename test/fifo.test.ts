/**
 * Raw video reaches glasscast through a FIFO (no garbage per chunk). Its edge
 * cases: a writer that never comes, a server killed before the FIFO was
 * unlinked, an ffmpeg that fails before opening its end.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultJpegSettings } from "../src/encoders/jpeg-settings.ts";
import { Fifo, sweepStale } from "../src/process/fifo.ts";
import { FfmpegCapture } from "../src/sources/ffmpeg/capture.ts";
import { SourceError } from "../src/sources/source.ts";
import { tempDir } from "./helpers/ffmpeg.ts";

setDefaultTimeout(15_000);

describe("Fifo", () => {
  test("release() ends a reader's wait for a writer that never comes: it reads EOF", async () => {
    const fifo = new Fifo();
    const opening = fifo.openForReading();
    await Bun.sleep(50);
    fifo.release();
    const handle = await opening;
    const { bytesRead } = await handle.read(new Uint8Array(16), 0, 16, null);
    expect(bytesRead).toBe(0);
    await handle.close();
    expect(existsSync(fifo.path)).toBe(false); // unlinked once open
  });

  test("folders left by a server that was killed are swept; live servers' are kept", () => {
    const dead = join(tmpdir(), "glasscast-fifo-999999999-test");
    const live = join(tmpdir(), `glasscast-fifo-${process.pid}-test`);
    mkdirSync(dead, { recursive: true });
    mkdirSync(live, { recursive: true });
    sweepStale();
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    new Fifo().remove();
  });
});

test("an ffmpeg that fails before opening the FIFO makes the capture fail, not hang", async () => {
  const dir = tempDir();
  const notVideo = join(dir, "notes.mp4");
  writeFileSync(notVideo, "this is not a video");
  const capture = new FfmpegCapture({
    ffmpeg: "ffmpeg",
    spec: { kind: "file", path: notVideo },
    output: "y4m",
    label: "test",
    settings: {
      width: null,
      height: null,
      fps: null,
      loop: false,
      frameSizeReduction: 0,
      rotate: 0,
      hflip: false,
      vflip: false,
      stabilize: false,
      jpeg: defaultJpegSettings,
    },
  });
  const run = (async () => {
    for await (const _ of capture.frames(new AbortController().signal)) {
      /* none */
    }
  })();
  await expect(run).rejects.toBeInstanceOf(SourceError);
  rmSync(dir, { recursive: true, force: true });
});

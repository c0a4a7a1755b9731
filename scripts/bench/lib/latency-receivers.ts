/**
 * The receivers of the latency benchmark. Each watches the stamp server for
 * a warm-up and then a window, reads the clock stamp (clock-stamp.ts) from
 * every picture it gets and notes now − stamp, plus what it can tell of
 * where the time went (arrival, its own decode, display):
 * - MJPEG: GET /video over a raw socket (mjpeg-connection.ts), each JPEG
 *   decoded with libjpeg-turbo (JpegDecoder), in this process.
 * - RTSP: ffmpeg (-fflags nobuffer -flags low_delay, RTP over TCP) to raw
 *   luma of the stamp's corner, one picture out per picture decoded, each
 *   flushed at once.
 * - WebRTC with aiortc (latency_aiortc.py; aiortc decodes).
 * - WebRTC with werift (the tests' viewer), no jitter buffer: RTP packets
 *   back into access units (H264Depacketizer) as they arrive, decoded by
 *   glasscast's own H264Decoder (ffmpeg, low delay): "received" is stamp →
 *   the access unit's last packet in, "decode" that → picture.
 * - Chromium: the index page with ?transport=webrtc or ?transport=hls
 *   (hls.js, low-latency mode); requestVideoFrameCallback draws the corner
 *   into a canvas and reads it; the time is the frame's expected display time.
 */
import type { Browser } from "playwright-core";
import { MjpegCounter } from "../../../src/bench/mjpeg-counter.ts";
import { H264Decoder } from "../../../src/encoders/h264-decoder.ts";
import { JpegDecoder } from "../../../src/encoders/jpeg-decoder.ts";
import { H264Depacketizer } from "../../../src/sources/whip/depacketize.ts";
import { connectViewer } from "../../../test/helpers/webrtc-client.ts";
import { ownChild, stopTree } from "./children.ts";
import { readStampLuma, readStampRgbaSource, stampArea, wallClockMs } from "./clock-stamp.ts";
import { annexB } from "./latency-floors.ts";
import { connectMjpeg } from "../../../src/bench/mjpeg-connection.ts";
import { REPO_ROOT } from "./server-process.ts";

export interface ReceiverFigures {
  /** now − stamp, ms, per picture read in the window. */
  latency: number[];
  /** Where the time went, ms per picture (e.g. "arrived": stamp → last byte in, "decode"). */
  parts: Record<string, number[]>;
  frames: number;
  /** Pictures whose stamp could not be read (damaged, or a placeholder): left out. */
  misread: number;
  error: string | null;
}

export interface Window {
  warmupS: number;
  seconds: number;
}

const empty = (...parts: string[]): ReceiverFigures => ({
  latency: [],
  parts: Object.fromEntries(parts.map((p) => [p, []])),
  frames: 0,
  misread: 0,
  error: null,
});

/** One MJPEG viewer: stamp → last byte of the JPEG in ("arrived"), and its decode. */
export async function mjpegReceiver(port: number, window: Window): Promise<ReceiverFigures> {
  const out = empty("arrived", "decode");
  const counter = new MjpegCounter(true);
  const decoder = new JpegDecoder();
  let connection: { end(): void } | null = null;
  let closing = false;
  let start = 0;
  let end = Infinity;
  return new Promise((resolve) => {
    const finish = () => {
      closing = true;
      connection?.end();
      decoder.close();
      resolve(out);
    };
    counter.onPart = (body) => {
      const arrived = wallClockMs();
      if (start === 0) {
        start = arrived + window.warmupS * 1000;
        end = start + window.seconds * 1000;
      }
      if (arrived >= end) return closing ? undefined : finish();
      if (arrived < start || !body) return;
      out.frames++;
      let picture;
      try {
        picture = decoder.decode(body);
      } catch {
        out.misread++;
        return;
      }
      const decoded = wallClockMs();
      const stamp = readStampLuma(picture.width, picture.data, decoded);
      if (stamp === null) {
        out.misread++;
        return;
      }
      out.latency.push(decoded - stamp);
      out.parts.arrived!.push(arrived - stamp);
      out.parts.decode!.push(decoded - arrived);
    };
    connectMjpeg(port, counter, {
      opened: (c) => {
        connection = c;
      },
      failed: (message) => {
        if (!closing) {
          out.error = message;
          finish();
        }
      },
      closing: () => closing,
    });
    setTimeout(
      () => {
        if (!closing) {
          out.error ??= "no pictures in time";
          finish();
        }
      },
      (window.warmupS + window.seconds + 15) * 1000,
    );
  });
}

/** ffmpeg as an RTSP client, writing the stamp's corner as raw luma; ffmpeg's decode is inside. */
export async function rtspReceiver(url: string, width: number, window: Window): Promise<ReceiverFigures> {
  const out = empty();
  const area = stampArea(width);
  const size = area.width * area.height;
  const proc = Bun.spawn(
    [
      "ffmpeg",
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-rtsp_transport",
      "tcp",
      "-fflags",
      "nobuffer",
      "-flags",
      "low_delay",
      "-probesize",
      "32",
      "-analyzeduration",
      "0",
      "-i",
      url,
      "-an",
      "-vf",
      `crop=${area.width}:${area.height}:0:0`,
      "-pix_fmt",
      "gray",
      "-vsync",
      "passthrough",
      "-f",
      "rawvideo",
      "-flush_packets",
      "1",
      "pipe:1",
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  ownChild(proc);
  const buffer = new Uint8Array(size);
  let filled = 0;
  let start = 0;
  let end = Infinity;
  const timer = setTimeout(
    () => {
      out.error ??= "no pictures in time";
      proc.kill();
    },
    (window.warmupS + window.seconds + 20) * 1000,
  );
  try {
    reading: for await (const chunk of proc.stdout) {
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(size - filled, chunk.length - at);
        buffer.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled < size) continue;
        filled = 0;
        const now = wallClockMs();
        if (start === 0) {
          start = now + window.warmupS * 1000;
          end = start + window.seconds * 1000;
        }
        if (now >= end) break reading;
        if (now < start) continue;
        out.frames++;
        const stamp = readStampLuma(area.width, buffer, now);
        if (stamp === null) out.misread++;
        else out.latency.push(now - stamp);
      }
    }
  } finally {
    clearTimeout(timer);
    await stopTree(proc, 1000);
  }
  if (out.frames === 0 && !out.error) out.error = `ffmpeg gave no pictures: ${(await new Response(proc.stderr).text()).trim().split("\n").at(-1) ?? ""}`;
  return out;
}

/** aiortc (Debian's python3-aiortc) over vidgear's /offer; aiortc's jitter buffer and decode are inside. */
export async function aiortcReceiver(base: string, window: Window): Promise<ReceiverFigures> {
  const proc = Bun.spawn(["/usr/bin/python3", `${REPO_ROOT}scripts/bench/lib/latency_aiortc.py`, base, String(window.warmupS), String(window.seconds)], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  ownChild(proc);
  const timer = setTimeout(() => proc.kill(), (window.warmupS + window.seconds + 40) * 1000);
  const [text, errText] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  await stopTree(proc, 1000);
  try {
    const r = JSON.parse(text.trim().split("\n").at(-1) ?? "") as { latencies: number[]; frames: number; misread: number; error: string | null };
    return { latency: r.latencies, parts: {}, frames: r.frames, misread: r.misread, error: r.error };
  } catch {
    return { ...empty(), error: `aiortc receiver gave no result: ${errText.trim().split("\n").at(-1) ?? "(nothing)"}` };
  }
}

/** werift in this process, depacketized as packets come, decoded by glasscast's H264Decoder. */
export async function weriftReceiver(base: string, window: Window): Promise<ReceiverFigures> {
  const out = empty("received", "decode");
  /** When each access unit handed to the decoder was complete; a picture out takes the oldest. */
  const receivedAt: number[] = [];
  let start = 0;
  let end = Infinity;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const decoder = new H264Decoder(
    "ffmpeg",
    "gray",
    (picture) => {
      const now = wallClockMs();
      const at = receivedAt.shift();
      if (start === 0) {
        start = now + window.warmupS * 1000;
        end = start + window.seconds * 1000;
      }
      if (now >= end) return finished();
      if (now < start) return;
      out.frames++;
      const stamp = readStampLuma(picture.width, picture.data, now);
      if (stamp === null || at === undefined) {
        out.misread++;
        return;
      }
      out.latency.push(now - stamp);
      out.parts.received!.push(at - stamp);
      out.parts.decode!.push(now - at);
    },
    "latency-werift-decoder",
  );
  const depacketizer = new H264Depacketizer();
  let viewer: Awaited<ReturnType<typeof connectViewer>> | null = null;
  const timer = setTimeout(
    () => {
      out.error ??= "no pictures in time";
      finished();
    },
    (window.warmupS + window.seconds + 20) * 1000,
  );
  try {
    viewer = await connectViewer(base);
    // connectViewer's own onTrack has fired by now (at setRemoteDescription): take the track the receiver has.
    const receiver = viewer.pc.getTransceivers()[0]!.receiver;
    const listen = (track: (typeof receiver.tracks)[number]) => {
      track.onReceiveRtp.subscribe((rtp) => {
        for (const au of depacketizer.push(rtp.payload, rtp.header.sequenceNumber, rtp.header.timestamp, rtp.header.marker)) {
          const written = decoder.written + decoder.skipped;
          decoder.write(annexB(au.nals), au.keyframe);
          if (decoder.written + decoder.skipped > written && decoder.skipped === 0) receivedAt.push(wallClockMs());
        }
      });
    };
    if (receiver.tracks[0]) listen(receiver.tracks[0]);
    else viewer.pc.getTransceivers()[0]!.onTrack.subscribe(listen);
    await done;
  } catch (err) {
    out.error = (err as Error).message;
  } finally {
    clearTimeout(timer);
    await viewer?.close();
    await decoder.stop();
  }
  // An access unit the decoder skipped (busy) would pair later pictures with the wrong arrival: no parts then.
  if (decoder.skipped > 0) out.parts = {};
  return out;
}

interface PageResult {
  latency: number[];
  received: number[];
  decode: number[];
  frames: number;
  misread: number;
}

/**
 * Chromium on the index page with one transport forced. WebRTC frames also
 * tell receiveTime (last packet in) and processingDuration (decode).
 */
export async function chromiumReceiver(browser: Browser, base: string, transport: "webrtc" | "hls", width: number, window: Window): Promise<ReceiverFigures> {
  const out = empty(...(transport === "webrtc" ? ["received", "decode"] : []));
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(`${base}/?transport=${transport}`, { timeout: 20_000 });
    await page.waitForFunction(`document.querySelector(".gc-tile video.gc-video")?.videoWidth > 0`, null, { timeout: 30_000, polling: 50 });
    const area = stampArea(width);
    const r = (await page.evaluate(`(async () => {
      const readStamp = new Function("w", "rgba", "now", ${JSON.stringify(`${readStampRgbaSource()}\nreturn readStamp(w, rgba, now);`)});
      const video = document.querySelector(".gc-tile video.gc-video");
      const canvas = document.createElement("canvas");
      canvas.width = ${area.width}; canvas.height = ${area.height};
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      const out = { latency: [], received: [], decode: [], frames: 0, misread: 0 };
      const start = performance.now() + ${window.warmupS * 1000};
      const end = start + ${window.seconds * 1000};
      return await new Promise((resolve) => {
        const onFrame = (now, md) => {
          const t = performance.now();
          if (t >= end) return resolve(out);
          video.requestVideoFrameCallback(onFrame);
          if (t < start) return;
          out.frames++;
          ctx.drawImage(video, 0, 0, canvas.width, canvas.height, 0, 0, canvas.width, canvas.height);
          const shown = performance.timeOrigin + (md.expectedDisplayTime ?? now);
          const stamp = readStamp(canvas.width, ctx.getImageData(0, 0, canvas.width, canvas.height).data, shown);
          if (stamp === null) { out.misread++; return; }
          out.latency.push(shown - stamp);
          if (md.receiveTime !== undefined) out.received.push(performance.timeOrigin + md.receiveTime - stamp);
          if (md.processingDuration !== undefined) out.decode.push(md.processingDuration * 1000);
        };
        video.requestVideoFrameCallback(onFrame);
      });
    })()`)) as PageResult;
    out.latency = r.latency;
    out.frames = r.frames;
    out.misread = r.misread;
    if (transport === "webrtc") {
      out.parts.received = r.received;
      out.parts.decode = r.decode;
    }
  } catch (err) {
    out.error = (err as Error).message.split("\n")[0] ?? "failed";
  } finally {
    await page.close().catch(() => {});
  }
  return out;
}

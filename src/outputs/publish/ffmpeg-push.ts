/**
 * RTSP, RTMP and SRT destinations: an ffmpeg child reads the stream's H.264
 * as Annex B on stdin and copies it (`-c copy`, no encode) into the muxer the
 * scheme needs. Raw H.264 has no timestamps: ffmpeg stamps each access unit
 * with the wall clock when it reads it (`-use_wallclock_as_timestamps`), and
 * they are written as they come out of the feed, so the output plays at the
 * rate the feed makes them, skipped pictures included.
 *
 * ffmpeg reports progress on stdout (`-progress pipe:1`): the first packet
 * muxed (`frame=1`) means the destination took the stream (live). Its stdin
 * is a bounded queue (PipeWriter): an access unit that finds too much still
 * waiting is refused, and the publisher skips to the next keyframe.
 */
import type { TimedAccessUnit } from "../../encoders/h264-ffmpeg.ts";
import { spawnOwned } from "../../process/child.ts";
import { PipeWriter } from "../../process/pipe-writer.ts";
import type { Connection } from "./publisher.ts";
import type { PublishTarget } from "./target.ts";

/** Bytes that may wait for ffmpeg before an access unit is refused (a few seconds of 2.5 Mbit/s). */
export const MAX_PENDING_BYTES = 1024 * 1024;

/** The muxer each scheme needs. */
export function muxerArgs(url: string): string[] {
  const scheme = url.slice(0, url.indexOf(":")).toLowerCase();
  switch (scheme) {
    case "rtsp":
    case "rtsps":
      return ["-f", "rtsp", "-rtsp_transport", "tcp"];
    case "rtmp":
    case "rtmps":
      return ["-f", "flv", "-flvflags", "no_duration_filesize"];
    case "srt":
      return ["-f", "mpegts", "-mpegts_flags", "+resend_headers"];
    default:
      throw new Error(`no muxer for ${scheme}:`);
  }
}

export function pushArgs(ffmpeg: string, url: string): string[] {
  return [
    ffmpeg,
    "-hide_banner",
    "-nostats",
    "-loglevel",
    "warning",
    "-progress",
    "pipe:1",
    "-stats_period",
    "0.5",
    "-fflags",
    "+nobuffer",
    "-use_wallclock_as_timestamps",
    "1",
    "-probesize",
    "32",
    "-analyzeduration",
    "0",
    "-f",
    "h264",
    "-i",
    "pipe:0",
    "-map",
    "0:v:0",
    "-c",
    "copy",
    ...muxerArgs(url),
    url,
  ];
}

const START_CODE = new Uint8Array([0, 0, 0, 1]);
/** Each access unit as Annex B bytes, made once for every ffmpeg destination. */
const annexBCache = new WeakMap<TimedAccessUnit, Uint8Array>();

export function annexBOf(au: TimedAccessUnit): Uint8Array {
  let bytes = annexBCache.get(au);
  if (bytes) return bytes;
  bytes = new Uint8Array(au.nals.reduce((n, nal) => n + 4 + nal.length, 0));
  let at = 0;
  for (const nal of au.nals) {
    bytes.set(START_CODE, at);
    bytes.set(nal, at + 4);
    at += 4 + nal.length;
  }
  annexBCache.set(au, bytes);
  return bytes;
}

/** One ffmpeg run towards `target`; `redact` masks its secrets in the logged command line and stderr. */
export function ffmpegConnection(ffmpeg: string, target: PublishTarget, redact: (text: string) => string, onLive: () => void): Connection {
  let lastLine: string | null = null;
  const child = spawnOwned(pushArgs(ffmpeg, target.url), {
    label: `publish[${target.stream} → ${target.shown}]`,
    stderrLevel: "warn",
    stdin: "pipe",
    redact,
    // Raw H.264 has no rate to probe (timestamps are the wall clock's), and a live FLV has no duration to write back.
    noise: /not enough frames to estimate rate|Failed to update header with correct/,
    onStderrLine: (line) => {
      lastLine = redact(line);
    },
  });
  const stdin = new PipeWriter(child.stdin!, MAX_PENDING_BYTES);
  let closed = false;
  void (async () => {
    const decoder = new TextDecoder();
    let text = "";
    let live = false;
    try {
      for await (const chunk of child.stdout) {
        if (live) continue; // drain: ffmpeg must never block on its progress pipe
        text += decoder.decode(chunk, { stream: true });
        const frames = [...text.matchAll(/^frame=(\d+)$/gm)].map((m) => Number(m[1]));
        if (frames.some((n) => n > 0)) {
          live = true;
          onLive();
        }
        text = text.slice(Math.max(0, text.lastIndexOf("\n")));
      }
    } catch {
      /* the pipe closes with the process */
    }
  })();
  const ended = child.exited.then((code) => {
    closed = true;
    stdin.end();
    const why = code === 0 ? "the destination ended the session" : `ffmpeg exited with code ${code}`;
    return lastLine ? `${lastLine} (${why})` : why;
  });
  return {
    send(au) {
      if (closed) return false;
      const bytes = annexBOf(au);
      try {
        return stdin.write(bytes) ? bytes.length : false;
      } catch {
        return false; // the pipe is closed: ffmpeg is exiting, and `ended` says why
      }
    },
    ended,
    async close() {
      closed = true;
      stdin.end();
      await child.stop(1000);
    },
  };
}

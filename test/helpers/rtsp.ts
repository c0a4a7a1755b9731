/**
 * RTSP as the tests meet it: a free port for the server, the real clients
 * (ffmpeg, GStreamer, OpenCV) run as child processes with bounded waits,
 * and ffmpeg's decoded frames counted with their arrival times.
 */
export { RtspClient, waitForAccessUnits } from "../../scripts/bench/lib/rtsp-client.ts";

/** A TCP port free right now on 127.0.0.1 (for --rtsp-port; 0 would turn RTSP off). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

export interface ClientRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** ffmpeg: one entry per decoded frame (framecrc line), ms since the start. */
  readonly frameTimes: number[];
  /** ffmpeg: the decoded size of each frame in bytes. */
  readonly frameSizes: number[];
}

/** Runs a command with a deadline; kills it when the deadline passes. */
export async function run(argv: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<ClientRun> {
  const start = performance.now();
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const frameTimes: number[] = [];
  const frameSizes: number[] = [];
  let stdout = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true });
      stdout += text;
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        // framecrc: "stream, dts, pts, duration, size, crc"
        const m = /^0,\s*-?\d+,\s*-?\d+,\s*\d+,\s*(\d+),/.exec(line);
        if (m) {
          frameTimes.push(performance.now() - start);
          frameSizes.push(Number(m[1]));
        }
      }
    }
  })();
  const stderr = await new Response(proc.stderr).text();
  const code = await proc.exited;
  await reading;
  clearTimeout(timer);
  return { code, stdout, stderr, frameTimes, frameSizes };
}

/** ffmpeg decoding `frames` pictures of an RTSP URL over `transport`, one framecrc line per picture. */
export function ffmpegRtsp(url: string, transport: "tcp" | "udp", frames: number, timeoutMs = 30_000): Promise<ClientRun> {
  return run(
    [
      "ffmpeg",
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-rtsp_transport",
      transport,
      "-i",
      url,
      "-frames:v",
      String(frames),
      "-pix_fmt",
      "yuv420p",
      "-flush_packets",
      "1",
      "-f",
      "framecrc",
      "-",
    ],
    timeoutMs,
  );
}

/**
 * Frames per second of a run's frames after the first `skip` (the cached
 * GOP arrives as a burst at the start): the pace of live pictures.
 */
export function liveRate(times: readonly number[], skip: number): number {
  const live = times.slice(skip);
  if (live.length < 2) return 0;
  return ((live.length - 1) * 1000) / (live.at(-1)! - live[0]!);
}

/** GStreamer's rtspsrc decoding `buffers` pictures of the size given, then EOS (exit 0). */
export function gstRtsp(
  url: string,
  o: { buffers: number; width: number; height: number; tcp: boolean; user?: string; password?: string },
  timeoutMs = 30_000,
): Promise<ClientRun> {
  const auth = o.user !== undefined ? [`user-id=${o.user}`, `user-pw=${o.password ?? ""}`] : [];
  return run(
    [
      "gst-launch-1.0",
      "-q",
      "rtspsrc",
      `location=${url}`,
      `protocols=${o.tcp ? "tcp" : "udp"}`,
      "latency=0",
      ...auth,
      "!",
      "rtph264depay",
      "!",
      "avdec_h264",
      "!",
      "videoconvert",
      "!",
      `video/x-raw,width=${o.width},height=${o.height}`,
      "!",
      "fakesink",
      `num-buffers=${o.buffers}`,
      "sync=false",
    ],
    timeoutMs,
  );
}

/** OpenCV (Debian's python3-opencv, through its ffmpeg backend) reading `frames` pictures; prints "frames width height". */
export function opencvRtsp(url: string, frames: number, timeoutMs = 30_000): Promise<ClientRun> {
  const script = [
    "import sys, cv2",
    "cap = cv2.VideoCapture(sys.argv[1], cv2.CAP_FFMPEG)",
    "n, shape = 0, None",
    "while n < int(sys.argv[2]):",
    "    ok, frame = cap.read()",
    "    if not ok: break",
    "    n += 1; shape = frame.shape",
    "print(n, shape[1] if shape else 0, shape[0] if shape else 0)",
  ].join("\n");
  return run(["/usr/bin/python3", "-c", script, url, String(frames)], timeoutMs);
}

/**
 * The rate at which a stream's H.264 feed makes access units while `during`
 * runs (from /state): what a client can get at most. On a loaded machine
 * the encoder may make fewer than the source's 30 per second; a client is
 * held to this rate, not to a fixed one.
 */
export async function feedRateDuring<T>(httpUrl: string, stream: number, during: () => Promise<T>): Promise<{ result: T; fps: number }> {
  const read = async () => {
    const state = (await (await fetch(`${httpUrl}/state`)).json()) as { streams: { encoders: { h264: { accessUnits: number } | null } }[] };
    return { at: performance.now(), units: state.streams[stream]!.encoders.h264!.accessUnits };
  };
  const before = await read();
  const result = await during();
  const after = await read();
  return { result, fps: ((after.units - before.units) * 1000) / (after.at - before.at) };
}

/**
 * The server of the latency benchmark: glasscast through its library API
 * (createGlasscast), its test pattern as the source, and a transform that
 * draws the wall clock into each picture as it enters the core
 * (clock-stamp.ts). Everything downstream (JPEG, the one H.264 encoder,
 * WebRTC, RTSP, HLS) sees stamped pictures. Run as a process of its own, so
 * the receivers' CPU is not the server's.
 *
 *   bun run scripts/bench/lib/stamp-server.ts --port P --rtsp-port R --width 1280 --height 720 --fps 30
 *
 * Writes {"type":"listening","port":P,"rtspPort":R} on stdout once it
 * serves; stops (reaping its children) on SIGTERM or when stdin closes.
 */
import { createGlasscast, type RawFrame } from "../../../src/index.ts";
import { drawStamp } from "./clock-stamp.ts";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`stamp-server: --${name} needs a whole number`);
    process.exit(2);
  }
  return value;
}

let stamped = 0;
const glasscast = await createGlasscast({
  host: "127.0.0.1",
  port: option("port", 8000),
  rtspPort: option("rtsp-port", 8554),
  source: ["testsrc"],
  width: option("width", 1280),
  height: option("height", 720),
  fps: option("fps", 30),
  logLevel: "warn",
  transform: (frame: RawFrame) => {
    drawStamp(frame);
    stamped++;
  },
});
const { port } = glasscast.listen();
process.stdout.write(`${JSON.stringify({ type: "listening", port, rtspPort: glasscast.rtspPort ?? 0 })}\n`);

let closing = false;
async function stop(): Promise<void> {
  if (closing) return;
  closing = true;
  await glasscast.close();
  process.stderr.write(`stamp-server: ${stamped} pictures stamped\n`);
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
void (async () => {
  for await (const _ of process.stdin) {
    /* the bench holds stdin open while it runs */
  }
  await stop();
})();

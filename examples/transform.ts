/**
 * Change every frame before it is sent: mirror the test pattern and draw a
 * white bar that shows the seconds. The transform runs once per frame,
 * whatever the number of viewers, on the raw picture (planar YUV: the first
 * width*height bytes are the brightness).
 *
 *   bun run examples/transform.ts      (then open http://localhost:8000/)
 */
import { createGlasscast, type RawFrame } from "glasscast";

function mirrorAndMark(frame: RawFrame): void {
  const { width, height, data } = frame;
  for (let y = 0; y < height; y++) {
    data.subarray(y * width, (y + 1) * width).reverse(); // mirror the brightness plane
  }
  const seconds = new Date().getSeconds();
  const bar = Math.round((width * seconds) / 60);
  for (let y = height - 12; y < height; y++) data.fill(235, y * width, y * width + bar); // a growing bar
}

const glasscast = await createGlasscast({
  host: process.env.HOST ?? "0.0.0.0",
  port: Number(process.env.PORT ?? 8000),
  source: ["testsrc"],
  width: 640,
  height: 360,
  jpegSubsampling: "gray", // the transform draws in the brightness plane only
  transform: mirrorAndMark,
});
const { port } = glasscast.listen();
console.log(`transformed test pattern → http://localhost:${port}/`);
process.on("SIGTERM", () => void glasscast.close().then(() => process.exit(0)));
process.on("SIGINT", () => void glasscast.close().then(() => process.exit(0)));

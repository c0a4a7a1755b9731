/**
 * Serve frames that your own program makes: here an animated RGB picture
 * drawn in JavaScript, 640x360 at 25 fps, paced by the generator itself.
 *
 *   bun run examples/custom-frames.ts      (then open http://localhost:8000/)
 */
import { createGlasscast, framesFrom, type UserFrame } from "glasscast";

const WIDTH = 640,
  HEIGHT = 360,
  FPS = 25;

async function* animation(): AsyncGenerator<UserFrame> {
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let t = 0; ; t++) {
    const box = (t * 4) % (WIDTH - 80);
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        const i = (y * WIDTH + x) * 3;
        const inBox = x >= box && x < box + 80 && y >= 140 && y < 220;
        data[i] = inBox ? 255 : (x + t) & 255; // red: a moving gradient
        data[i + 1] = inBox ? 255 : (y * 255) / HEIGHT; // green: top to bottom
        data[i + 2] = inBox ? 255 : 128; // blue
      }
    }
    yield { format: "rgb", width: WIDTH, height: HEIGHT, data };
    await Bun.sleep(1000 / FPS);
  }
}

const glasscast = await createGlasscast({
  host: process.env.HOST ?? "0.0.0.0",
  port: Number(process.env.PORT ?? 8000),
  streams: [{ name: "animation", source: framesFrom(animation()) }],
});
const { port } = glasscast.listen();
console.log(`custom frames → http://localhost:${port}/`);
process.on("SIGTERM", () => void glasscast.close().then(() => process.exit(0)));
process.on("SIGINT", () => void glasscast.close().then(() => process.exit(0)));

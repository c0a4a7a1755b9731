/**
 * Add your own routes and middleware to the app: a CORS header on every
 * answer (so other sites may embed /snapshot.jpg in a canvas), a request
 * log, and a JSON route of your own, beside glasscast's.
 *
 *   bun run examples/extra-route.ts    (then curl http://localhost:8000/hello)
 */
import { Elysia } from "elysia";
import { createGlasscast } from "glasscast";

// onRequest runs first for every request, glasscast's routes included, whenever it is added.
const cors = new Elysia({ name: "cors" }).onRequest(({ set }) => {
  set.headers["access-control-allow-origin"] = "*";
});

const glasscast = await createGlasscast({ host: process.env.HOST ?? "0.0.0.0", port: Number(process.env.PORT ?? 8000), width: 640, height: 360 });
glasscast.app
  .use(cors)
  .onRequest(({ request }) => console.log(`${request.method} ${new URL(request.url).pathname}`))
  .get("/hello", () => ({ hello: "from my program", streams: glasscast.streams.map((s) => s.stats()) }));

const { port } = glasscast.listen();
console.log(`test pattern with extra routes → http://localhost:${port}/`);
process.on("SIGTERM", () => void glasscast.close().then(() => process.exit(0)));
process.on("SIGINT", () => void glasscast.close().then(() => process.exit(0)));

/**
 * What @elysiajs/html costs a request, in process (app.handle, no sockets):
 * its plugin adds a derive to every route after it, so a route that is not a
 * page (a JSON answer) is timed with and without the plugin, and a page (the
 * built-in index.html's size) answered with html() against a plain Response.
 * Rounds interleaved, the order swapped each round; prints the CPU time per
 * request (this process's, so a busy machine slows it less than a clock
 * would), median and min–max over rounds, and how busy the machine was.
 *
 *   bun run scripts/bench/html-plugin.ts [--requests 20000] [--rounds 8]
 */
import { Elysia } from "elysia";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HTML_CONTENT_TYPE, htmlPlugin } from "../../src/routes/html.tsx";
import { cli, num } from "./lib/cli.ts";
import { busyPct, sampleRound } from "./lib/sampling.ts";
import { REPO_ROOT } from "./lib/server-process.ts";
import { fixed, spread } from "./lib/stats.ts";
import { table } from "./lib/table.ts";

const o = cli("html-plugin", {
  requests: num({ flag: "requests", default: 20000, max: 10_000_000, whole: true, help: "requests per round and variant" }),
  rounds: num({ flag: "rounds", default: 8, max: 100, whole: true, help: "rounds, each variant once per round" }),
}).parseOrExit();
const page = readFileSync(join(REPO_ROOT, "web", "templates", "index.html"), "utf8");
const json = () => Response.json({ ok: true });

const variants = [
  { name: "JSON route, no plugin", path: "/json", app: new Elysia().get("/json", json), us: [] as number[] },
  { name: "JSON route, @elysiajs/html used before it", path: "/json", app: new Elysia().use(htmlPlugin()).get("/json", json), us: [] as number[] },
  {
    name: "page, new Response(text/html)",
    path: "/",
    app: new Elysia().get("/", ({ set }) => {
      set.headers["cache-control"] = "no-cache";
      return new Response(page, { headers: { "content-type": HTML_CONTENT_TYPE } });
    }),
    us: [] as number[],
  },
  {
    name: "page, html() of @elysiajs/html",
    path: "/",
    app: new Elysia().use(htmlPlugin()).get("/", ({ html, set }) => {
      set.headers["cache-control"] = "no-cache";
      return html(page);
    }),
    us: [] as number[],
  },
];

async function timeRound(v: (typeof variants)[number], n: number): Promise<number> {
  const request = new Request(`http://localhost${v.path}`);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const res = await v.app.handle(new Request(request));
    await res.arrayBuffer();
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / n;
}

for (const v of variants) await timeRound(v, 2000); // warm-up (compiles each app's handler)
const begin = sampleRound(process.pid, []);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let r = 0; r < o.rounds; r++) {
  for (const v of r % 2 ? [...variants].reverse() : variants) v.us.push(await timeRound(v, o.requests));
}
const busy = busyPct(begin, sampleRound(process.pid, []));
const cpu = process.cpuUsage(cpu0);
const ownCpu = (cpu.user + cpu.system) / 1e4 / ((performance.now() - t0) / 1000);

console.log(`${o.requests} requests per round and variant, ${o.rounds} interleaved rounds, in process (app.handle).\n`);
console.log(
  table(
    [
      { title: "Variant", align: "l", value: (v) => v.name },
      { title: "CPU µs per request, median (min–max over rounds)", align: "r", value: (v) => spread(v.us, 2) },
    ],
    variants,
  ),
);
console.log(`\nThis process used ${fixed(ownCpu)} % of one core; the machine was ${fixed(busy)} % busy.`);

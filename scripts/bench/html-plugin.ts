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
import { forEachOption, parseOrExit, positive, UsageError } from "./lib/args.ts";
import { machineTicks } from "./lib/proc-stats.ts";
import { fixed, median } from "./lib/report.ts";
import { REPO_ROOT } from "./lib/server-process.ts";

const USAGE = `usage: bun run scripts/bench/html-plugin.ts [options]
  --requests N   requests per round and variant (default 20000)
  --rounds N     rounds, each variant once per round (default 8)`;

function parse(argv: string[]): { requests: number; rounds: number } {
  const o = { requests: 20000, rounds: 8 };
  forEachOption(argv, (flag, value, arg) => {
    if (flag === "--requests") o.requests = positive("requests", value(), true, 10_000_000);
    else if (flag === "--rounds") o.rounds = positive("rounds", value(), true, 100);
    else throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
  });
  return o;
}

const o = parseOrExit("html-plugin", USAGE, () => parse(process.argv.slice(2)));
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
const m0 = machineTicks();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let r = 0; r < o.rounds; r++) {
  for (const v of r % 2 ? [...variants].reverse() : variants) v.us.push(await timeRound(v, o.requests));
}
const m1 = machineTicks();
const cpu = process.cpuUsage(cpu0);
const busy = (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total);
const ownCpu = (cpu.user + cpu.system) / 1e4 / ((performance.now() - t0) / 1000);

console.log(`${o.requests} requests per round and variant, ${o.rounds} interleaved rounds, in process (app.handle).\n`);
console.log("| Variant | CPU µs per request, median (min–max over rounds) |");
console.log("|:---|---:|");
for (const v of variants) console.log(`| ${v.name} | ${fixed(median(v.us), 2)} (${fixed(Math.min(...v.us), 2)}–${fixed(Math.max(...v.us), 2)}) |`);
console.log(`\nThis process used ${fixed(ownCpu)} % of one core; the machine was ${fixed(busy)} % busy.`);

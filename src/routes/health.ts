/**
 * `GET /healthz`: 200 `{"status":"ok"}` while every stream is healthy (see
 * stats/health.ts for what that means in each state), else 503
 * `{"status":"unhealthy","streams":[{name,state,reason}]}` naming the streams
 * at fault. Made to be polled (load balancers, systemd, Kubernetes): it only
 * reads a few figures per stream. Always open (see access/route-kind.ts).
 */
import { Elysia } from "elysia";
import type { StatsSource } from "../stats/collect.ts";
import { streamProblem, type StreamProblem } from "../stats/health.ts";

const HEADERS = { "cache-control": "no-store" };

export function healthRoutes(source: Pick<StatsSource, "streams">) {
  const answer = (head: boolean) => {
    const problems = source.streams.map((p) => streamProblem(p.stream.stats())).filter((p): p is StreamProblem => p !== null);
    const status = problems.length === 0 ? 200 : 503;
    if (head) return new Response(null, { status, headers: HEADERS });
    return Response.json(problems.length === 0 ? { status: "ok" } : { status: "unhealthy", streams: problems }, { status, headers: HEADERS });
  };
  return new Elysia({ name: "glasscast/health" })
    .get("/healthz", () => answer(false))
    .head("/healthz", () => answer(true));
}

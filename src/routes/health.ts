/**
 * `GET /healthz`: 200 `{"status":"ok"}` while every stream is healthy (see
 * stats/health.ts for what that means in each state), else 503
 * `{"status":"unhealthy","streams":[{name,state,reason}]}` naming the streams
 * at fault. Made to be polled (load balancers, systemd, Kubernetes): it only
 * reads a few figures per stream. Always open (see access/route-kind.ts):
 * so when anything else needs credentials (`detail: false`) it says only
 * `{"status", "streams": [{name, ok}]}`, never a source or a reason.
 */
import { Elysia } from "elysia";
import { headOf } from "../http/head.ts";
import type { StatsSource } from "../stats/collect.ts";
import { streamProblem, type StreamProblem } from "../stats/health.ts";

const HEADERS = { "cache-control": "no-store" };

export function healthRoutes(source: Pick<StatsSource, "streams">, { detail = true }: { detail?: boolean } = {}) {
  const answer = () => {
    const checked = source.streams.map((p) => ({ name: p.name, problem: streamProblem(p.stream.stats()) }));
    const problems = checked.map((c) => c.problem).filter((p): p is StreamProblem => p !== null);
    const status = problems.length === 0 ? 200 : 503;
    const word = problems.length === 0 ? "ok" : "unhealthy";
    const body = !detail
      ? { status: word, streams: checked.map((c) => ({ name: c.name, ok: c.problem === null })) }
      : problems.length === 0
        ? { status: word }
        : { status: word, streams: problems };
    return Response.json(body, { status, headers: HEADERS });
  };
  return new Elysia({ name: "glasscast/health" }).get("/healthz", () => answer()).head("/healthz", () => headOf(answer()));
}

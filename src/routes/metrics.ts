/**
 * `GET /metrics`: the server's figures in the Prometheus text format (0.0.4)
 * for a scraper; the same snapshot as /state (see stats/metrics-text.ts for
 * the families).
 */
import { Elysia } from "elysia";
import { collectStats, type StatsSource } from "../stats/collect.ts";
import { EXPOSITION_CONTENT_TYPE } from "../stats/exposition.ts";
import { renderMetrics } from "../stats/metrics-text.ts";

export function metricsRoutes(source: StatsSource) {
  return new Elysia({ name: "glasscast/metrics" }).get(
    "/metrics",
    () =>
      new Response(renderMetrics(collectStats(source)), {
        headers: { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" },
      }),
  );
}

/**
 * `GET /state`: everything the server knows about its streams, encoders and
 * viewers, as one JSON document (its shape is described in stats/collect.ts),
 * for people, scripts and dashboards. The same snapshot feeds /metrics.
 */
import { Elysia } from "elysia";
import { collectStats, type StatsSource } from "../stats/collect.ts";

export function stateRoutes(source: StatsSource) {
  return new Elysia({ name: "glasscast/state" }).get("/state", () => Response.json(collectStats(source), { headers: { "cache-control": "no-store" } }));
}

/**
 * Error answers: a bad request gets a clear 4xx with a JSON `detail`, a fault
 * a 500 without a stack trace; the process and every other viewer carry on.
 */
import { Elysia } from "elysia";
import { log } from "../log.ts";

export function jsonError(status: number, detail: string, headers: Record<string, string> = {}): Response {
  return Response.json({ detail }, { status, headers: { "cache-control": "no-store", ...headers } });
}

export const errorRoutes = new Elysia({ name: "glasscast/errors" })
  .onError({ as: "global" }, ({ code, error, request }) => {
    if (code === "NOT_FOUND") return jsonError(404, `${new URL(request.url).pathname} was not found`);
    if (code === "PARSE" || code === "VALIDATION") return jsonError(400, "the request could not be understood");
    log.error(`${request.method} ${new URL(request.url).pathname}: ${error instanceof Error ? error.message : String(error)}`);
    return jsonError(500, "internal error");
  });

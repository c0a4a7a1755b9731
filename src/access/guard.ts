/**
 * The access rules (see policy.ts) as an Elysia plugin. It works in
 * `onRequest`, which Elysia runs for every request before routing, whatever
 * was added before or after it: so it covers every route, glasscast's and a
 * program's own, and paths that match none. A refusal is JSON with a
 * `detail` (and WWW-Authenticate on a 401, so a browser shows its login box).
 */
import { Elysia } from "elysia";
import { jsonError } from "../routes/errors.ts";
import type { AccessControl } from "./policy.ts";

/** `preflight`: answers a CORS preflight, or null (see routes/cors.ts). */
export function accessGuard(access: AccessControl, preflight?: (request: Request) => Response | null) {
  return new Elysia({ name: "glasscast/access" })
    .onRequest(async ({ request, server, set }) => {
      // A CORS preflight never carries credentials (Fetch standard): answered before any login is asked for.
      const early = preflight?.(request);
      if (early) return early;
      const verdict = await access.check(request, server?.requestIP(request)?.address);
      if (!verdict.pass) return jsonError(verdict.status, verdict.detail, { ...verdict.headers });
      if (verdict.setCookie) set.headers["set-cookie"] = verdict.setCookie;
    });
}

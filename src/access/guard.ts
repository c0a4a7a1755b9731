/**
 * The access rules (see policy.ts) as an Elysia plugin. It works in
 * `onRequest`, which Elysia runs for every request before routing, whatever
 * was added before or after it: so it covers every route, glasscast's and a
 * program's own, and paths that match none. A refusal is JSON with a
 * `detail`, or what `refuse` makes of it (a page for a browser), with
 * WWW-Authenticate on a 401, so a browser shows its login box.
 */
import { Elysia } from "elysia";
import { jsonError } from "../http/request.ts";
import type { AccessControl, Verdict } from "./policy.ts";

type Refused = Extract<Verdict, { pass: false }>;

export interface GuardAnswers {
  /** Answers a CORS preflight, or null (see routes/cors.ts). */
  readonly preflight?: (request: Request) => Response | null;
  /** The answer to a refusal (server.ts gives browsers a themed page: routes/refusal.ts); JSON by default. */
  readonly refuse?: (request: Request, verdict: Refused) => Response | Promise<Response>;
}

const jsonRefusal = (_: Request, v: Refused): Response => jsonError(v.status, v.detail, { ...v.headers });

export function accessGuard(access: AccessControl, { preflight, refuse = jsonRefusal }: GuardAnswers = {}) {
  return new Elysia({ name: "glasscast/access" }).onRequest(async ({ request, server, set }) => {
    // A CORS preflight never carries credentials (Fetch standard): answered before any login is asked for.
    const early = preflight?.(request);
    if (early) return early;
    const verdict = await access.check(request, server?.requestIP(request)?.address);
    if (!verdict.pass) return refuse(request, verdict);
    if (verdict.setCookie) set.headers["set-cookie"] = verdict.setCookie;
  });
}

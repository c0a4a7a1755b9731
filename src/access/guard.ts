/**
 * The access rules (see policy.ts) as an Elysia plugin. It works in
 * `onRequest`, which Elysia runs for every request before routing, whatever
 * was added before or after it: so it covers every route, glasscast's and a
 * program's own, and paths that match none. A refusal is JSON with a
 * `detail`, or what `refuse` makes of it (a page for a browser), with
 * WWW-Authenticate on a 401, so a browser shows its login box.
 */
import { Elysia } from "elysia";
import { jsonError } from "../routes/errors.ts";
import type { AccessControl, Verdict } from "./policy.ts";

type Refused = Extract<Verdict, { pass: false }>;

/** `refuse`: the answer to a refusal (server.ts gives browsers a themed page: routes/refusal.ts). */
export function accessGuard(access: AccessControl, refuse = (_: Request, v: Refused): Response | Promise<Response> => jsonError(v.status, v.detail, { ...v.headers })) {
  return new Elysia({ name: "glasscast/access" })
    .onRequest(async ({ request, server, set }) => {
      const verdict = await access.check(request, server?.requestIP(request)?.address);
      if (!verdict.pass) return refuse(request, verdict);
      if (verdict.setCookie) set.headers["set-cookie"] = verdict.setCookie;
    });
}

/**
 * `POST /api/tokens`: makes a signed viewer link (only --auth users get here,
 * see access/policy.ts). Body `{"ttl": SECONDS, "stream": NAME}`, both
 * optional; answers the token, when it expires, and the addresses that carry
 * it (absolute, made from the address the request was sent to).
 */
import { Elysia } from "elysia";
import { DEFAULT_TOKEN_TTL_S, MAX_TOKEN_TTL_S, type ViewerTokens } from "../access/tokens.ts";
import { jsonError } from "./errors.ts";

/** A token request is a few bytes of JSON. */
const MAX_BODY = 4096;

export interface TokenRouteOptions {
  readonly tokens: ViewerTokens;
  /** Each stream's page, MJPEG and snapshot paths, in order (the first is the default). */
  readonly streams: readonly { readonly name: string; readonly video: string; readonly snapshot: string; readonly view: string }[];
  /** The server has pages (not --no-theme). */
  readonly pages: boolean;
  /** The server has WebRTC (not --no-webrtc). */
  readonly whep: boolean;
}

export interface TokenAnswer {
  readonly token: string;
  /** ISO 8601. */
  readonly expires: string;
  readonly urls: { readonly page: string | null; readonly video: string; readonly snapshot: string; readonly whep: string | null };
}

class RequestError extends Error {}

function readRequest(text: string, names: readonly string[]): { ttl: number; stream: string | null } {
  let body: unknown = {};
  if (text.trim()) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new RequestError('the body is not JSON; expected {"ttl": SECONDS, "stream": NAME} (both optional)');
    }
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new RequestError('expected a JSON object such as {"ttl": 3600, "stream": "main"}');
  }
  const { ttl = DEFAULT_TOKEN_TTL_S, stream = null } = body as { ttl?: unknown; stream?: unknown };
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_S) {
    throw new RequestError(`ttl: ${JSON.stringify(ttl)} is not allowed; expected a whole number of seconds from 1 to ${MAX_TOKEN_TTL_S} (a year)`);
  }
  if (stream !== null && (typeof stream !== "string" || !names.includes(stream))) {
    throw new RequestError(`stream: there is no stream ${JSON.stringify(stream)}; expected one of ${names.join(", ")}`);
  }
  return { ttl, stream };
}

export function tokenRoutes({ tokens, streams, pages, whep }: TokenRouteOptions) {
  const names = streams.map((s) => s.name);
  return new Elysia({ name: "glasscast/tokens" }).post(
    "/api/tokens",
    async ({ request }) => {
      if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY) return jsonError(413, `the body is larger than ${MAX_BODY} bytes`);
      let asked: { ttl: number; stream: string | null };
      try {
        asked = readRequest(await request.text(), names);
      } catch (err) {
        if (err instanceof RequestError) return jsonError(400, err.message);
        return jsonError(400, "the body could not be read");
      }
      const made = tokens.make(asked.ttl, asked.stream);
      const shown = streams.find((s) => s.name === asked.stream) ?? streams[0]!;
      const origin = new URL(request.url).origin;
      const link = (path: string) => `${origin}${path}?token=${encodeURIComponent(made.token)}`;
      const answer: TokenAnswer = {
        token: made.token,
        expires: new Date(made.expires * 1000).toISOString(),
        urls: {
          page: pages ? link(asked.stream === null ? "/" : shown.view) : null,
          video: link(shown.video),
          snapshot: link(shown.snapshot),
          whep: whep ? link(asked.stream === null ? "/whep" : `/whep/${shown.name}`) : null,
        },
      };
      return Response.json(answer, { headers: { "cache-control": "no-store" } });
    },
    { parse: "none" },
  );
}

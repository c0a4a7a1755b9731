/**
 * A refused request (401, 403, 429 from the access rules) as its answer: a
 * browser navigating gets the theme's page for that status, API clients and
 * everyone with --no-theme JSON with a `detail`; so does every refusal of
 * another kind (400 for a request that cannot be read, 503 while logins queue). The refusal's headers
 * (WWW-Authenticate, Retry-After…) go with either.
 *
 * The page's own stylesheet and images sit behind the same rules, so a
 * refused browser could not load them: they are put into the page itself.
 */
import { log } from "../log.ts";
import { contentTypeOf } from "../theme/content-type.ts";
import { scriptJson } from "../theme/template.ts";
import type { Theme } from "../theme/theme.ts";
import { jsonError, queryOf, wantsPage } from "./errors.ts";
import { HTML_CONTENT_TYPE } from "./html.tsx";
import { kioskMode } from "./kiosk.ts";

type PageStatus = 401 | 403 | 429;

export interface Refusal {
  readonly status: number;
  readonly detail: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Theme files larger than this stay links (a page of refusals must stay small). */
const INLINE_MAX_BYTES = 64 * 1024;
const TITLES: Record<PageStatus, string> = { 401: "Sign in", 403: "Not allowed", 429: "Too many attempts" };
const hasPage = (status: number): status is PageStatus => status in TITLES;

export function refusalAnswer(theme: Theme | null, kiosk: boolean) {
  return async (request: Request, refusal: Refusal): Promise<Response> => {
    const { status, detail, headers } = refusal;
    if (!theme || !hasPage(status) || !wantsPage(request)) return jsonError(status, detail, { ...headers });
    try {
      const isKiosk = kioskMode(new URLSearchParams(queryOf(request)).get("kiosk"), kiosk);
      const html = await theme.page(
        `${status}.html`,
        {
          title: `${TITLES[status]} · glasscast`,
          status,
          message: detail,
          detail: "",
          bodyClass: isKiosk ? "gc-kiosk" : "",
          config: scriptJson({ kiosk: isKiosk }),
        },
        request,
      );
      return new Response(await inlineStyles(html, theme), {
        status,
        headers: { ...headers, "content-type": HTML_CONTENT_TYPE, "cache-control": "no-store" },
      });
    } catch (err) {
      log.error(`${status} page: ${err instanceof Error ? err.message : String(err)}`);
      return jsonError(status, detail, { ...headers });
    }
  };
}

/** Stylesheets and images of the theme (`href`/`src` under /static/, not scripts) as data: addresses. */
async function inlineStyles(html: string, theme: Theme): Promise<string> {
  const found = new Map<string, string | null>();
  const pattern = /(<(?:link|img)\b[^>]*?\b(?:href|src)=")(\/static\/[^"?#]+)(")/g;
  for (const m of html.matchAll(pattern)) found.set(m[2]!, null);
  for (const path of found.keys()) {
    const file = theme.file(path.slice(1));
    if (!file || file.body.size > INLINE_MAX_BYTES) continue;
    const bytes = Buffer.from(await file.body.arrayBuffer());
    found.set(path, `data:${contentTypeOf(path).replace(/; charset=utf-8$/, "")};base64,${bytes.toString("base64")}`);
  }
  return html.replace(pattern, (whole, before: string, path: string, after: string) => {
    const data = found.get(path);
    return data ? `${before}${data}${after}` : whole;
  });
}

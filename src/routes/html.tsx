/** @jsxRuntime classic */
/** @jsx Html.createElement */
/** @jsxFrag Html.Fragment */
// The JSX factory is said here as well as in tsconfig.json: Bun reads the tsconfig of the folder it
// is started in, so `cd / && bun run …/src/cli.ts` (a service started from source) would otherwise
// look for React's runtime.
/**
 * HTML made in code, through @elysiajs/html: its plugin answers the page
 * routes (`html(...)` with the content type below), and its JSX (@kitajs/html)
 * writes the markup the program adds to a theme's page. Every user-influenced
 * string goes in as a child with `safe`, so it is escaped.
 *
 * The pages themselves are the theme's templates (templates/*.html, which a
 * --theme-dir may replace), not JSX; errors.ts and refusal.ts answer outside a
 * route (onError, the access guard) where the plugin's `html()` is not given,
 * so they build their Response with the same content type.
 */
// biome-ignore lint/correctness/noUnusedImports: Html is the JSX factory (tsconfig's jsxFactory, Html.createElement)
import { Html, html } from "@elysiajs/html";

export const HTML_CONTENT_TYPE = "text/html; charset=utf-8";

/**
 * The plugin, set for glasscast: no guessing from a string's first character
 * (an SDP or a playlist is never taken for HTML), and a theme's page is sent
 * as its author wrote it (no doctype added).
 */
export const htmlPlugin = () => html({ autoDetect: false, autoDoctype: false, contentType: HTML_CONTENT_TYPE });

/** With --debug, what went wrong under an error page's message (escaped). */
export async function errorDetail(detail: string): Promise<string> {
  return await (
    <pre class="gc-error-detail" safe>
      {detail}
    </pre>
  );
}

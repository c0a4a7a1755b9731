/** The page at `/`: the stream in a minimal player (embedded in the binary). */
import { Elysia } from "elysia";
import indexHtml from "../../web/index.html" with { type: "file" };

// With `type: "file"` the import is the file's path (inside the binary once compiled);
// bun-types describes .html imports as HTML bundles, hence the cast.
const indexHtmlPath = indexHtml as unknown as string;

const escapeAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

export async function indexPageRoutes(videoPath: string) {
  const html = (await Bun.file(indexHtmlPath).text()).replaceAll("{{VIDEO_PATH}}", escapeAttr(videoPath));
  const headers = { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" };
  return new Elysia({ name: "glasscast/index" })
    .get("/", () => new Response(html, { headers }))
    .head("/", () => new Response(null, { headers }));
}

/** The theme's static files (css, js, images) under /static/, the embedded third-party scripts (static/vendor/), and the favicon. */
import { Elysia } from "elysia";
import type { Theme } from "../theme/theme.ts";
import { contentTypeOf } from "../theme/content-type.ts";
import { VENDOR_FILES } from "../theme/vendor.ts";
import { jsonError } from "./errors.ts";

export function staticRoutes(theme: Theme) {
  const serve = (path: string) => {
    const vendor = VENDOR_FILES[path];
    if (vendor) return new Response(Bun.file(vendor), { headers: { "content-type": contentTypeOf(path), "cache-control": "public, max-age=3600" } });
    const file = theme.file(path);
    if (!file) return jsonError(404, `/${path} was not found`);
    return new Response(file.body, {
      headers: {
        "content-type": contentTypeOf(path),
        // Built-in files change only with the program; a --theme-dir file may be edited any time.
        "cache-control": file.overridden ? "no-cache" : "public, max-age=3600",
      },
    });
  };
  return new Elysia({ name: "glasscast/static" })
    .get("/static/*", ({ params }) => serve(`static/${params["*"]}`))
    .get("/favicon.ico", () => serve("static/img/favicon.svg"));
}

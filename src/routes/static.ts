/** The theme's static files (css, js, images) under /static/, and the favicon. */
import { Elysia } from "elysia";
import type { Theme } from "../theme/theme.ts";
import { contentTypeOf } from "../theme/content-type.ts";
import { jsonError } from "./errors.ts";

export function staticRoutes(theme: Theme) {
  const serve = (path: string) => {
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

/**
 * The built-in theme, embedded in the program: `with { type: "file" }` makes
 * `bun build --compile` carry each file inside the binary, and gives its path
 * there (or in the source tree when run from source). A test checks that this
 * list is exactly the files under web/.
 */
import base from "../../web/templates/base.html" with { type: "file" };
import index from "../../web/templates/index.html" with { type: "file" };
import notFound from "../../web/templates/404.html" with { type: "file" };
import serverError from "../../web/templates/500.html" with { type: "file" };
import unauthorized from "../../web/templates/401.html" with { type: "file" };
import forbidden from "../../web/templates/403.html" with { type: "file" };
import tooMany from "../../web/templates/429.html" with { type: "file" };
import css from "../../web/static/css/glasscast.css" with { type: "file" };
// @ts-ignore: a browser script embedded as a file (its path), not a module to type-check here
import player from "../../web/static/js/player.js" with { type: "file" };
import favicon from "../../web/static/img/favicon.svg" with { type: "file" };

// bun-types describes .html imports as HTML bundles; with type "file" each is its path.
const path = (p: unknown) => p as string;

/** Theme path → where the file's bytes are. */
export const EMBEDDED_FILES: Readonly<Record<string, string>> = {
  "templates/base.html": path(base),
  "templates/index.html": path(index),
  "templates/404.html": path(notFound),
  "templates/500.html": path(serverError),
  "templates/401.html": path(unauthorized),
  "templates/403.html": path(forbidden),
  "templates/429.html": path(tooMany),
  "static/css/glasscast.css": path(css),
  "static/js/player.js": path(player),
  "static/img/favicon.svg": path(favicon),
};

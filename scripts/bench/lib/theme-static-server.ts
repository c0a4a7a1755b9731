/**
 * The server side of theme-static.ts: one process, two ports, the same
 * --theme-dir folder behind both. "hand-written" is glasscast's own route
 * (routes/static.ts); "plugin" is @elysiajs/static over the same folder with
 * the same guard in front (Theme's realpath check: only a file inside the
 * folder reaches the plugin, by its real path). A pool child
 * (stdin-commands.ts): answers "ready" with the two ports, then serves until
 * its parent closes stdin.
 *
 *   bun run scripts/bench/lib/theme-static-server.ts --theme-dir DIR
 */
import { staticPlugin } from "@elysiajs/static";
import { Elysia } from "elysia";
import { realpathSync } from "node:fs";
import { relative } from "node:path";
import type { BunFile } from "bun";
import { staticRoutes } from "../../../src/routes/static.ts";
import { Theme } from "../../../src/theme/theme.ts";
import { answer, childArg, onStdinCommands } from "./stdin-commands.ts";

/** What the server answers its parent. */
export type ThemeServerMessage = { type: "ready"; handWritten: number; plugin: number };

const dir = childArg("theme-static-server", "theme-dir", false);
const theme = new Theme(dir);
const root = realpathSync(dir);

// etag off and no-cache: a --theme-dir file may be edited at any time, as the hand-written route promises.
const folder = await staticPlugin({
  assets: root,
  prefix: "",
  alwaysStatic: false,
  etag: false,
  indexHTML: false,
  decodeURI: true,
  ignorePatterns: [/(^|\/)\./],
  headers: { "cache-control": "no-cache" },
  silent: true,
});

const viaPlugin = new Elysia().get("/static/*", ({ params, request }) => {
  // Theme.file is the guard; a file from the folder is a Bun.file of its real path.
  const own = theme.file(`static/${params["*"]}`);
  if (!own?.overridden) return new Response("not found", { status: 404 });
  const path = relative(root, (own.body as BunFile).name!)
    .split("/")
    .map(encodeURIComponent)
    .join("/");
  return folder.handle(new Request(`http://theme/${path}`, { method: request.method, headers: request.headers }));
});

const handWritten = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: new Elysia().use(staticRoutes(theme)).fetch });
const plugin = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: viaPlugin.fetch });
onStdinCommands(() => {});
const ready: ThemeServerMessage = { type: "ready", handWritten: handWritten.port!, plugin: plugin.port! };
answer(ready);

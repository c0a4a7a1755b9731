/**
 * A glasscast in this process, asked through its Elysia app's `handle()`
 * (no socket): for routes whose answer a real server would not change.
 * Its streams are fed by the test (push sources): no ffmpeg starts.
 */
// The server's own objects (streams, audiences, WebRTC sessions), not the library's plain view: tests look inside.
import { createGlasscast, type Glasscast, type GlasscastConfig } from "../../src/server.ts";
import { createPushSource, type PushSource } from "../../src/index.ts";

export interface InProcess {
  readonly gc: Glasscast;
  /** Each stream's push source, by name: push a frame to give it a picture. */
  readonly push: Readonly<Record<string, PushSource>>;
  /** One request to the app; `path` may carry a query. */
  ask(method: string, path: string, headers?: Record<string, string>, body?: string): Promise<Response>;
}

/** Runs `use` on a glasscast with two pushed streams (main, side) and `config`; always closes it. */
export async function withApp<T>(config: GlasscastConfig, use: (app: InProcess) => Promise<T>): Promise<T> {
  const push = { main: createPushSource(), side: createPushSource() };
  const streams = Object.entries(push).map(([name, p]) => ({ name, source: p.source }));
  const gc = await createGlasscast({ logLevel: "error", streams, ...config });
  try {
    return await use({
      gc,
      push,
      ask: (method, path, headers = {}, body) => gc.app.handle(new Request(`http://localhost${path}`, { method, headers, body })),
    });
  } finally {
    await gc.close();
  }
}

export function basic(credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString("base64")}`;
}

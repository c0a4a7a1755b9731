/**
 * glasscast as a library:
 *
 *   import { createGlasscast, framesFrom } from "glasscast";
 *   const gc = await createGlasscast({ port: 8000, streams: [{ name: "cam", source: framesFrom(myFrames()) }] });
 *   gc.app.get("/hello", () => "hi");   // your routes and plugins
 *   gc.listen();
 *
 * Options are the CLI's (camelCase), checked the same way: a bad one throws
 * an OptionError that names it. What comes back is plain data and small
 * handles (src/public-api.ts); test/api-surface.test.ts pins every name.
 */
export { createGlasscast, type Glasscast, type StreamHandle } from "./public-api.ts";
export type { CustomStream, GlasscastConfig } from "./server.ts";
export { OptionError } from "./config/validate.ts";
export type { Options } from "./config/options.ts";
export { createPushSource, framesFrom, FrameError, type PushSource, type UserFrame } from "./sources/custom.ts";
export type { Source } from "./sources/source.ts";
export type { FrameTransform, StreamState, StreamStats } from "./stream/stream.ts";
export type { Frame, JpegFrame, RawFormat, RawFrame } from "./media/frame.ts";
export type { Transport, ViewerInfo } from "./stream/audience.ts";

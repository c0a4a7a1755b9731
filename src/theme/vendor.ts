/**
 * Third-party browser scripts the page uses, embedded in the program like
 * the theme (`with { type: "file" }`), from their npm packages: no CDN, so
 * the page works offline and the one-file program carries them. They are
 * not theme files (a --theme-dir does not replace them).
 */
// @ts-ignore: a browser script embedded as a file (its path), not a module to type-check here
import hlsJs from "../../node_modules/hls.js/dist/hls.light.min.js" with { type: "file" };

/** Where the page loads hls.js from (the light build: no subtitles, alternate audio or DRM, which glasscast never serves). */
export const HLS_JS_PATH = "/static/vendor/hls.light.min.js";

/** Path under / → where the file's bytes are. */
export const VENDOR_FILES: Readonly<Record<string, string>> = {
  "static/vendor/hls.light.min.js": hlsJs as unknown as string,
};

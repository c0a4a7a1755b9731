/**
 * Moved to src/media/frame.ts (the media layer, which every folder may use).
 * This re-export keeps code written against the old path compiling; import
 * "../media/frame.ts" in new code (the layering test flags sources and
 * encoders that still come here).
 */
export * from "../media/frame.ts";

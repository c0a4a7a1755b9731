/** Moved to src/bench/ (glasscast bench uses it too): re-exported for the benchmarks here. */
export * from "../../../src/bench/mjpeg-counter.ts";

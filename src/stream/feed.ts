/**
 * What an output takes from the core (the consumer side of go2rtc's
 * producer/consumer): a feed made once per stream, whatever the number of
 * outputs and viewers. An output holds the feed while it has someone to
 * send to (the work behind it, an encoder, runs on a lease), subscribes to
 * its units, and lets go when its last viewer leaves. H264Feed is one; an
 * audio feed is another. MJPEG is the pull-shaped exception: a viewer takes
 * the newest JPEG when its socket drains (Stream.onFrame + latestJpeg).
 */
export interface Feed<Unit> {
  /** Keeps the feed's work running until the returned function is called (idempotent). */
  hold(): () => void;
  /** Calls `fn` with every new unit; returns the unsubscribe function. */
  subscribe(fn: (unit: Unit) => void): () => void;
}

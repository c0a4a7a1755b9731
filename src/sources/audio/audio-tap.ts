/**
 * Where a capture process that also encodes the source's audio track
 * (`--audio source`) hands its second output: the Ogg Opus bytes of its
 * stdout, and its stderr lines (the level readings are taken from them).
 * The stream's AudioFeed is one (stream/audio-feed.ts).
 */
export interface AudioTap {
  /** A new capture run starts (a new Ogg stream follows), with its process id. */
  begin(pid: number): void;
  /** Bytes of the Ogg stream. */
  write(chunk: Uint8Array): void;
  /** One stderr line of the capture process: true when it was a level reading (not worth logging). */
  line(text: string): boolean;
  /** The run ended. */
  end(): void;
}

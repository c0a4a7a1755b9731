/**
 * An ALSA microphone read by an ffmpeg of its own, encoded to Opus once: the
 * process runs until stopped, and is started again with the same back-off as
 * a video capture (1 s, doubling, up to 30 s) whenever it fails, e.g. while
 * a USB microphone is unplugged. Packets and level readings go to the
 * caller; what is said on stderr (other than levels) is logged.
 */
import { log } from "../../log.ts";
import { OggOpusReader } from "../../media/opus/ogg-opus.ts";
import { spawnOwned } from "../../process/child.ts";
import { alsaOpusArgs, LEVEL_NOISE, levelOf } from "./opus-args.ts";

export interface AudioCaptureEvents {
  packet(payload: Uint8Array): void;
  level(dbfs: number): void;
  /** The process started (its pid) or ended (null). */
  process(pid: number | null): void;
}

export interface AlsaCaptureOptions {
  readonly ffmpeg: string;
  readonly device: string;
  readonly label: string;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
}

export class AlsaCapture {
  #abort: AbortController | null = null;
  #running: Promise<void> | null = null;
  #restarts = 0;

  constructor(
    private readonly options: AlsaCaptureOptions,
    private readonly events: AudioCaptureEvents,
  ) {}

  /** Times the process failed and was started again. */
  get restarts(): number {
    return this.#restarts;
  }

  start(): void {
    if (this.#abort) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#running = this.#run(abort.signal);
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    this.#abort = null;
    await this.#running;
    this.#running = null;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { initialMs, maxMs } = this.options.backoff;
    let wait = initialMs;
    while (!signal.aborted) {
      let lastError = "";
      let delivered = false;
      const child = spawnOwned(alsaOpusArgs(this.options.ffmpeg, this.options.device), {
        label: this.options.label,
        stderrLevel: "warn",
        noise: LEVEL_NOISE,
        onStderrLine: (line) => {
          const level = levelOf(line);
          if (level !== null) this.events.level(level);
          else if (!LEVEL_NOISE.test(line)) lastError = line;
        },
      });
      this.events.process(child.pid);
      const stop = () => void child.stop();
      signal.addEventListener("abort", stop, { once: true });
      const reader = new OggOpusReader();
      try {
        for await (const chunk of child.stdout) {
          for (const packet of reader.push(chunk)) {
            if (!delivered) {
              delivered = true;
              wait = initialMs;
            }
            this.events.packet(packet);
          }
        }
        const code = await child.exited;
        if (signal.aborted) break;
        this.#restarts++;
        log.warn(
          `${this.options.label}: ${this.options.device} ${code === 0 ? "ended" : `failed (ffmpeg exited with ${code}${lastError ? `: ${lastError}` : ""})`}; silence meanwhile, restarting in ${wait / 1000} s`,
          { event: "audio.restart", restarts: this.#restarts, retry_s: wait / 1000 },
        );
      } finally {
        signal.removeEventListener("abort", stop);
        await child.stop();
        this.events.process(null);
      }
      await sleep(wait, signal);
      wait = Math.min(wait * 2, maxMs);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

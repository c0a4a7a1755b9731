/**
 * What a werift answer waits on, cut short by a close: werift's steps
 * (setRemoteDescription, createAnswer, setLocalDescription) never settle once
 * their RTCPeerConnection is closed, so a request answering an offer would
 * wait forever. Each step is raced against this signal instead.
 */
export class CloseSignal {
  #closed = false;
  readonly #signal = Promise.withResolvers<never>();

  constructor(private readonly error: () => Error) {
    // Closed while nothing waits: nobody hears the rejection, and that is fine.
    this.#signal.promise.catch(() => {});
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Idempotent: every step waiting now or later fails with `error()`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal.reject(this.error());
  }

  /** `step`, or `error()` as soon as the signal is closed while it waits. */
  race<T>(step: Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.error());
    return Promise.race([step, this.#signal.promise]);
  }
}

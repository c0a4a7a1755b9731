/**
 * Every WebRTC viewer of the server, by id: created from an offer, closed by
 * its own id only (reloading one tab never disturbs another; vidgear closed
 * everyone's), dropped by itself when ICE/DTLS fails or times out.
 */
import { log } from "../../log.ts";
import type { Audience } from "../../stream/audience.ts";
import type { AudioFeed } from "../../stream/audio-feed.ts";
import type { H264Feed } from "../../stream/h264-feed.ts";
import { ClosedWhileAnswering, NoMediaPort, Peer, type IceSettings } from "./peer.ts";

export class TooManyPeers extends Error {}

/**
 * Offers from one address whose peer has not connected yet: a client
 * that sends offers and never completes ICE holds a slot each until
 * CONNECT_DEADLINE_MS; past this many, its next offer is refused (a page
 * with a grid of cameras sends one offer per camera at once).
 */
export const MAX_PENDING_PER_ADDRESS = 8;

export class WebRtcSessions {
  readonly #peers = new Map<string, Peer>();

  constructor(
    private readonly ice: IceSettings,
    private readonly maxPeers: number,
  ) {}

  get size(): number {
    return this.#peers.size;
  }

  /** Answers an offer for a stream's feed; throws TooManyPeers or OfferError. */
  /** `client`: who counts as one client for MAX_PENDING_PER_ADDRESS (default: the address itself). */
  /** `audio`: the stream's sound, sent to peers whose offer takes audio. */
  async create(
    feed: H264Feed,
    offerSdp: string,
    audience: Audience | null = null,
    address = "unknown",
    client = address,
    audio: AudioFeed | null = null,
  ): Promise<{ id: string; sdp: string }> {
    if (this.#peers.size >= this.maxPeers) throw new TooManyPeers(`the server has its maximum of ${this.maxPeers} WebRTC viewers (--webrtc-max-peers)`);
    const range = this.ice.portRange;
    // One UDP port per peer (bundled): a range of N ports holds N peers.
    if (range && this.#peers.size >= range[1] - range[0] + 1) {
      throw new TooManyPeers(`every UDP port of --webrtc-port-range ${range[0]}-${range[1]} is taken by a WebRTC viewer`);
    }
    let pending = 0;
    for (const p of this.#peers.values()) if (p.client === client && p.readyAt === null) pending += 1;
    if (pending >= MAX_PENDING_PER_ADDRESS) {
      throw new TooManyPeers(`this address has ${pending} WebRTC offers that have not connected yet; finish or close those first`);
    }
    const peer = new Peer(
      feed,
      this.ice,
      (p) => {
        this.#peers.delete(p.id);
        log.debug(`webrtc: peer ${p.id} closed (${this.#peers.size} left)`);
      },
      audience?.expect("webrtc", address) ?? null,
      client,
      audio,
    );
    this.#peers.set(peer.id, peer);
    try {
      const sdp = await peer.answer(offerSdp);
      log.debug(`webrtc: peer ${peer.id} for stream ${feed.stream.name} (${this.#peers.size} in all)`);
      return { id: peer.id, sdp };
    } catch (err) {
      await peer.close();
      if (err instanceof NoMediaPort) throw new TooManyPeers(err.message);
      // Let go while answering (shutdown): each werift step races the peer's close, so this is the only form it takes.
      if (err instanceof ClosedWhileAnswering) throw new TooManyPeers(err.message);
      throw err;
    }
  }

  get(id: string): Peer | undefined {
    return this.#peers.get(id);
  }

  /** Closes one peer; false when there is none with that id. */
  async close(id: string): Promise<boolean> {
    const peer = this.#peers.get(id);
    if (!peer) return false;
    await peer.close();
    return true;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#peers.values()].map((p) => p.close()));
  }
}

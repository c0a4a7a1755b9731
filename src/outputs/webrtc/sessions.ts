/**
 * Every WebRTC viewer of the server, by id: created from an offer, closed by
 * its own id only (reloading one tab never disturbs another; vidgear closed
 * everyone's), dropped by itself when ICE/DTLS fails or times out.
 */
import { log } from "../../log.ts";
import type { Audience } from "../../stream/audience.ts";
import type { H264Feed } from "./h264-feed.ts";
import { Peer, type IceSettings } from "./peer.ts";

export class TooManyPeers extends Error {}

export class WebRtcSessions {
  readonly #peers = new Map<string, Peer>();

  constructor(private readonly ice: IceSettings, private readonly maxPeers: number) {}

  get size(): number { return this.#peers.size; }

  /** Answers an offer for a stream's feed; throws TooManyPeers or OfferError. */
  async create(feed: H264Feed, offerSdp: string, audience: Audience | null = null, address = "unknown"): Promise<{ id: string; sdp: string }> {
    if (this.#peers.size >= this.maxPeers) throw new TooManyPeers(`the server has its maximum of ${this.maxPeers} WebRTC viewers (--max-peers)`);
    const peer = new Peer(feed, this.ice, (p) => {
      this.#peers.delete(p.id);
      log.debug(`webrtc: peer ${p.id} closed (${this.#peers.size} left)`);
    }, audience?.join("webrtc", address) ?? null);
    this.#peers.set(peer.id, peer);
    try {
      const sdp = await peer.answer(offerSdp);
      log.debug(`webrtc: peer ${peer.id} for stream ${feed.stream.name} (${this.#peers.size} in all)`);
      return { id: peer.id, sdp };
    } catch (err) {
      await peer.close();
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

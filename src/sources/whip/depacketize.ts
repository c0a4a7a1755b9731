/**
 * RTP H.264 (RFC 6184, packetization-mode 0 and 1) back into access units:
 * single NAL unit packets, STAP-A aggregates and FU-A fragments. An access
 * unit ends at the marker bit, or when the RTP timestamp changes (a sender
 * that never sets the marker).
 *
 * Loss: a gap in the sequence numbers drops the access unit being built and
 * every following one until the next keyframe (a decoder or a WebRTC viewer
 * would show smeared pictures otherwise), and `onLoss` is called so that the
 * receiver can ask the sender for a keyframe (PLI). The first access units,
 * before any keyframe, are dropped the same way. Late and repeated packets
 * (sequence numbers behind the newest) are ignored. Memory is bounded: an
 * access unit over `maxAccessUnitBytes` is dropped as damaged.
 */
import { NAL, nalType, type AccessUnit } from "../../media/h264/annexb.ts";
import { concatBytes } from "../../media/bytes.ts";

/** A 4K IDR picture is a few MiB; anything past this is garbage. */
export const MAX_ACCESS_UNIT_BYTES = 16 * 1024 * 1024;

export class H264Depacketizer {
  #nals: Uint8Array[] = [];
  #bytes = 0;
  #fu: Uint8Array[] | null = null;
  #timestamp: number | null = null;
  #lastSeq: number | null = null;
  /** The access unit being built lost a packet. */
  #damaged = false;
  /** Access units are dropped until a keyframe. */
  #waitKeyframe = true;
  /** Access units dropped (damaged, or while waiting for a keyframe). */
  dropped = 0;

  constructor(
    private readonly onLoss: () => void = () => {},
    private readonly maxAccessUnitBytes = MAX_ACCESS_UNIT_BYTES,
  ) {}

  /** Bytes held for the access unit being built (never much over the bound). */
  get buffered(): number {
    return this.#bytes;
  }

  /** True until the first keyframe, and after a loss until the next one. */
  get waitingForKeyframe(): boolean {
    return this.#waitKeyframe;
  }

  /** One RTP packet's payload and header fields; returns the access units it completed (0, 1 or 2). */
  push(payload: Uint8Array, seq: number, timestamp: number, marker: boolean): AccessUnit[] {
    const out: AccessUnit[] = [];
    if (this.#lastSeq !== null) {
      const ahead = (seq - this.#lastSeq) & 0xffff;
      if (ahead === 0 || ahead > 0x8000) return out; // a repeat, or late
      if (ahead > 1) this.#lose();
    }
    this.#lastSeq = seq;
    if (this.#timestamp !== null && timestamp !== this.#timestamp && (this.#nals.length > 0 || this.#fu || this.#damaged)) {
      this.#finish(out); // the sender did not mark the end of the previous picture
    }
    this.#timestamp = timestamp;
    this.#payload(payload);
    if (this.#bytes > this.maxAccessUnitBytes) {
      // Damaged: what it held goes now, and nothing more of it is kept (a fragment's middle without its start is dropped).
      this.#damaged = true;
      this.#nals = [];
      this.#fu = null;
      this.#bytes = 0;
    }
    if (marker) this.#finish(out);
    return out;
  }

  #lose(): void {
    this.#damaged = true;
    this.#fu = null;
    if (!this.#waitKeyframe) {
      this.#waitKeyframe = true;
      this.onLoss();
    }
  }

  #add(nal: Uint8Array): void {
    if (nal.length === 0 || this.#damaged) return;
    this.#nals.push(nal);
    this.#bytes += nal.length;
  }

  #payload(p: Uint8Array): void {
    if (p.length === 0) return;
    const type = p[0]! & 0x1f;
    if (type >= 1 && type <= 23) return this.#add(p.slice());
    if (type === NAL.STAP_A) {
      for (let o = 1; o + 2 <= p.length; ) {
        const size = (p[o]! << 8) | p[o + 1]!;
        if (size === 0 || o + 2 + size > p.length) {
          this.#damaged = true;
          return;
        }
        this.#add(p.slice(o + 2, o + 2 + size));
        o += 2 + size;
      }
      return;
    }
    if (type === NAL.FU_A) {
      if (p.length < 3) {
        this.#damaged = true;
        return;
      }
      const start = (p[1]! & 0x80) !== 0;
      const end = (p[1]! & 0x40) !== 0;
      if (start) this.#fu = [new Uint8Array([(p[0]! & 0xe0) | (p[1]! & 0x1f)])];
      if (!this.#fu) {
        this.#damaged = true;
        return;
      } // its start was lost, or the picture was dropped as too big
      this.#fu.push(p.slice(2));
      this.#bytes += p.length - 2;
      if (end) {
        const parts = this.#fu;
        this.#fu = null;
        this.#bytes -= parts.reduce((n, part) => n + part.length, 0) - 1;
        this.#add(concatBytes(parts));
      }
      return;
    }
    this.#damaged = true; // STAP-B, MTAP, FU-B: not in packetization-mode 1
  }

  #finish(out: AccessUnit[]): void {
    const nals = this.#nals;
    const damaged = this.#damaged || this.#fu !== null;
    this.#nals = [];
    this.#bytes = 0;
    this.#fu = null;
    this.#damaged = false;
    if (nals.length === 0 && !damaged) return;
    const keyframe = nals.some((n) => nalType(n) === NAL.IDR);
    if (damaged) {
      this.dropped++;
      if (!this.#waitKeyframe) {
        this.#waitKeyframe = true;
        this.onLoss();
      }
      return;
    }
    const slices = nals.some((n) => {
      const t = nalType(n);
      return t >= 1 && t <= 5;
    });
    if (!slices) {
      // Parameter sets sent on their own (some senders do, before the IDR with its own timestamp): kept for the next picture.
      this.#nals = nals;
      this.#bytes = nals.reduce((n, nal) => n + nal.length, 0);
      return;
    }
    if (this.#waitKeyframe && !keyframe) {
      this.dropped++;
      return;
    }
    this.#waitKeyframe = false;
    out.push({ nals, keyframe });
  }
}

/** The NAL units of an SDP's `sprop-parameter-sets=…` (base64, comma-separated), or none. */
export function spropParameterSets(sdp: string): Uint8Array[] {
  const m = /sprop-parameter-sets=([A-Za-z0-9+/=,]+)/.exec(sdp);
  if (!m) return [];
  return m[1]!
    .split(",")
    .filter((s) => s.length > 0)
    .map((s) => new Uint8Array(Buffer.from(s, "base64")))
    .filter((n) => n.length > 0);
}

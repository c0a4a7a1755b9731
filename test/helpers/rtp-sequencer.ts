/**
 * Complete RTP packets for tests: the product's peers number their own
 * packets inside werift (src/outputs/webrtc/peer.ts); the tests need whole
 * packets to depacketize and decode.
 */

const RTP_HEADER = 12;

function randomUint16(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]!;
}

/**
 * One peer's RTP stream: its SSRC, its negotiated payload type and its own
 * sequence numbers (starting at a random value, RFC 3550 5.1, unless given),
 * so every peer can join at any keyframe with a gap-free sequence.
 */
export class RtpSequencer {
  readonly ssrc: number;
  readonly payloadType: number;
  #sequence: number;

  constructor(ssrc: number, payloadType: number, firstSequenceNumber: number = randomUint16()) {
    if (!Number.isInteger(ssrc) || ssrc < 0 || ssrc > 0xffffffff) {
      throw new RangeError(`ssrc must be an integer from 0 to 4294967295, got ${ssrc}`);
    }
    if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) {
      throw new RangeError(`payloadType must be an integer from 0 to 127, got ${payloadType}`);
    }
    if (!Number.isInteger(firstSequenceNumber) || firstSequenceNumber < 0 || firstSequenceNumber > 0xffff) {
      throw new RangeError(`firstSequenceNumber must be an integer from 0 to 65535, got ${firstSequenceNumber}`);
    }
    this.ssrc = ssrc;
    this.payloadType = payloadType;
    this.#sequence = firstSequenceNumber;
  }

  /** The sequence number the next packet gets. */
  get nextSequenceNumber(): number {
    return this.#sequence;
  }

  /**
   * Complete RTP packets for the payloads of one picture: version 2, no
   * padding/extension/CSRC, marker on the last packet, the given 90 kHz
   * timestamp (taken mod 2^32). One fresh buffer per packet (a `Buffer`, which
   * werift's `sendRtp` takes as is).
   */
  packets(payloads: Uint8Array[], timestamp90k: number): Buffer[] {
    const out: Buffer[] = new Array(payloads.length);
    const timestamp = timestamp90k >>> 0;
    const last = payloads.length - 1;
    let sequence = this.#sequence;
    for (let k = 0; k <= last; k++) {
      const payload = payloads[k]!;
      const packet = Buffer.allocUnsafe(RTP_HEADER + payload.length);
      packet[0] = 0x80;
      packet[1] = (k === last ? 0x80 : 0) | this.payloadType;
      packet[2] = sequence >>> 8;
      packet[3] = sequence & 0xff;
      packet.writeUInt32BE(timestamp, 4);
      packet.writeUInt32BE(this.ssrc, 8);
      packet.set(payload, RTP_HEADER);
      sequence = (sequence + 1) & 0xffff;
      out[k] = packet;
    }
    this.#sequence = sequence;
    return out;
  }
}

/**
 * RTCP sender reports that pair the wall clock with each track's RTP clock
 * at one instant, for lip sync. werift's own reports pair the time its last
 * packet was sent with that packet's timestamp (right only if every packet
 * leaves the moment its media was made: not for a new viewer's paced burst
 * of pictures), and its NTP fraction is wrong (werift 0.25: the digits after
 * the decimal point of the seconds, read as an integer, so 0.5 s reads as
 * 5/2³² s): a browser that takes it lines sound and picture up to a second
 * apart. Here both of a peer's tracks report the same instant, read once
 * from performance.now(): the video's 90 kHz and the audio's 48 kHz clocks
 * are that clock (see stream/h264-feed.ts and stream/audio-feed.ts), plus
 * each track's random offset.
 */
import type { RTCRtpSender } from "werift";

/** NTP time (RFC 5905: seconds since 1900 in the high 32 bits, the fraction in the low 32) of a Unix time in ms. */
export function ntpOf(unixMs: number): bigint {
  const ms = unixMs + 2_208_988_800_000;
  const seconds = Math.floor(ms / 1000);
  const fraction = Math.floor(((ms - seconds * 1000) / 1000) * 2 ** 32);
  return (BigInt(seconds) << 32n) | BigInt(fraction >>> 0);
}

/**
 * Makes the sender's reports say, at the moment each is sent, the wall clock
 * and `rtpAt(performance.now())` (already with the track's offset). werift
 * reads these two fields when it builds a report; what it writes into them
 * after each packet is dropped.
 */
export function clockSenderReports(sender: RTCRtpSender, rtpAt: (now: number) => number): void {
  let instant = { now: 0, unixMs: 0 };
  const read = () => {
    // One instant per report: the two getters are read one after the other.
    const now = performance.now();
    if (now - instant.now > 1) instant = { now, unixMs: performance.timeOrigin + now };
    return instant;
  };
  Object.defineProperty(sender, "ntpTimestamp", { configurable: true, get: () => ntpOf(read().unixMs), set: () => {} });
  Object.defineProperty(sender, "rtpTimestamp", { configurable: true, get: () => rtpAt(read().now) >>> 0, set: () => {} });
}

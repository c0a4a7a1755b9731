/**
 * The bare send floor of webrtc-peers (webrtc-floor.ts): sends PACKETS_PER_S
 * UDP datagrams of BYTES each to 127.0.0.1:PORT through Bun's UDP socket, one
 * burst per frame (FPS bursts a second), one send call per datagram as an RTP
 * sender makes them; no SRTP, no packetizing. Runs until killed.
 *
 *   bun run scripts/bench/lib/udp-send-floor.ts PORT PACKETS_PER_S BYTES FPS
 */
const [port, perSecond, bytes, fps] = process.argv.slice(2).map(Number);
if (![port, perSecond, bytes, fps].every((v) => v !== undefined && Number.isInteger(v) && v > 0)) {
  console.error("usage: udp-send-floor.ts PORT PACKETS_PER_S BYTES FPS (positive whole numbers)");
  process.exit(2);
}

export {}; // a module: top-level await
const socket = await Bun.udpSocket({ hostname: "127.0.0.1" });
const payload = new Uint8Array(bytes!).fill(0x5a);
const started = performance.now();
let sent = 0;

/** Sends what is due by now (the bursts keep their pace even when a timer fires late). */
function tick(): void {
  const due = Math.floor(((performance.now() - started) / 1000) * perSecond!);
  for (; sent < due; sent++) socket.send(payload, port!, "127.0.0.1");
}

setInterval(tick, 1000 / fps!);

/**
 * The load generator of leak-churn.ts: werift peers that join a server and
 * leave again as fast as they get a frame, in a process of their own (so
 * their objects are not counted in the server's heap).
 *
 *   bun run scripts/bench/lib/peer-churn-child.ts BASE COUNT CONCURRENCY [HOLD_MS]
 *
 * Each peer stays HOLD_MS (0.5–1.5×) after its first frame.
 *
 * Half of the peers say goodbye (/close_connection), half only close (the
 * server finds them gone by RTCP silence or DTLS close). Prints one JSON
 * line at the end: {done, failed}.
 */
import { connectPeer } from "../../../src/bench/webrtc-peer.ts";

const [base, countText, concurrencyText, holdText] = process.argv.slice(2);
const holdMs = Number(holdText ?? 0);
const count = Number(countText);
const concurrency = Number(concurrencyText);
process.on("uncaughtException", (err: Error & { code?: string }) => {
  if (err.code === "ECONNREFUSED") return; // ICMP from a server port already closed
  console.error(err.message);
  process.exit(5);
});

let next = 0;
let done = 0;
let failed = 0;
async function worker(): Promise<void> {
  while (next < count) {
    const i = next++;
    const peer = await connectPeer(base!, 10_000);
    const deadline = performance.now() + 10_000;
    while (peer.counts.frames === 0 && peer.counts.error === null && performance.now() < deadline) await Bun.sleep(20);
    if (peer.counts.frames === 0) failed++;
    else if (holdMs > 0) await Bun.sleep(holdMs * (0.5 + Math.random()));
    await peer.close(i % 2 === 0);
    done++;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
process.stdout.write(`${JSON.stringify({ done, failed })}\n`);
process.exit(0);

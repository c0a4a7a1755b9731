/**
 * A load-generator process for rtsp-fanout.ts: `--count` RTSP clients over
 * TCP interleaved (lib/rtsp-client.ts: they parse the interleaved frames and
 * count access units by the RTP marker bit, decoding nothing), all of one URL.
 *
 *   bun run scripts/bench/lib/rtsp-readers.ts --url rtsp://127.0.0.1:8554/ --count 25 --max-seconds 120
 *
 * stdout, JSON lines: {"type":"ready","firstFrameMs":[…],"errors":[…]} once
 * every client has its first access unit (or failed); then on stdin "mark"
 * the counts are noted ({"type":"marked"}), and on "stop" each client's
 * access units, bytes and sequence gaps since the mark come back
 * ({"type":"result",…}) and the process exits.
 */
import { answer, childArg, onStdinCommands } from "./stdin-commands.ts";
import { RtspClient } from "./rtsp-client.ts";

export type RtspReaderMessage =
  | { type: "ready"; firstFrameMs: (number | null)[]; errors: string[] }
  | { type: "marked" }
  | { type: "result"; seconds: number; clients: { accessUnits: number; bytes: number; gaps: number; error: string | null }[] };

if (import.meta.main) {
  const url = childArg("rtsp-readers", "url", false);
  const count = Number(childArg("rtsp-readers", "count"));
  const maxSeconds = Number(childArg("rtsp-readers", "max-seconds"));
  setTimeout(() => process.exit(3), maxSeconds * 1000).unref();
  const { hostname, port } = new URL(url.replace(/^rtsp:/, "http:"));
  const send = (m: RtspReaderMessage) => answer(m);
  const clients: { client: RtspClient | null; error: string | null; start: number; firstFrameMs: number | null }[] = [];
  let mark: { at: number; counts: { accessUnits: number; bytes: number; gaps: number }[] } | null = null;

  onStdinCommands<string>((command) => {
    if (command === "mark") {
      mark = {
        at: performance.now(),
        counts: clients.map((c) => ({
          accessUnits: c.client?.counts.accessUnits ?? 0,
          bytes: c.client?.counts.bytes ?? 0,
          gaps: c.client?.counts.sequenceGaps ?? 0,
        })),
      };
      send({ type: "marked" });
    } else if (command === "stop") {
      const m = mark ?? { at: performance.now(), counts: clients.map(() => ({ accessUnits: 0, bytes: 0, gaps: 0 })) };
      send({
        type: "result",
        seconds: (performance.now() - m.at) / 1000,
        clients: clients.map((c, i) => ({
          accessUnits: (c.client?.counts.accessUnits ?? 0) - m.counts[i]!.accessUnits,
          bytes: (c.client?.counts.bytes ?? 0) - m.counts[i]!.bytes,
          gaps: (c.client?.counts.sequenceGaps ?? 0) - m.counts[i]!.gaps,
          error: c.error ?? (c.client?.closed ? "the server closed the connection" : null),
        })),
      });
      for (const c of clients) c.client?.close();
      setTimeout(() => process.exit(0), 100);
    }
  });

  await Promise.all(
    Array.from({ length: count }, async () => {
      const entry: (typeof clients)[number] = { client: null, error: null, start: performance.now(), firstFrameMs: null };
      clients.push(entry);
      try {
        entry.client = await RtspClient.connect(hostname, Number(port));
        await entry.client.play(url);
        const deadline = performance.now() + 20_000;
        while (entry.client.counts.firstFrameAt === null && !entry.client.closed && performance.now() < deadline) await Bun.sleep(10);
        if (entry.client.counts.firstFrameAt !== null) entry.firstFrameMs = entry.client.counts.firstFrameAt - entry.start;
        else entry.error = "no access unit in 20 s";
      } catch (err) {
        entry.error = (err as Error).message;
      }
    }),
  );
  send({ type: "ready", firstFrameMs: clients.map((c) => c.firstFrameMs), errors: clients.flatMap((c) => (c.error ? [c.error] : [])) });
}

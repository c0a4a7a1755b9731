/**
 * A load-generator process for hls.ts: `--count` cheap LL-HLS players of one
 * playlist URL. A player is a plain fetch loop, nothing decoded: the
 * playlist once, the init segment once, then blocking reloads
 * (`?_HLS_msn=M&_HLS_part=P` for the part after the newest it knows) and each
 * part the answer lists that it has not fetched yet, once, in order. It counts
 * parts, bytes and the segments it got whole (every part of it), and, for
 * each part, the time from the blocking reload answer that first listed it
 * arriving to the part's last byte in hand ("announced → fetched").
 *
 *   bun run scripts/bench/lib/hls-players.ts --url http://127.0.0.1:8080/hls/index.m3u8 --count 50 --max-seconds 120
 *
 * stdout, JSON lines: {"type":"ready",…} once every player has its first part
 * (or failed); on stdin "mark" the counts restart ({"type":"marked"}), on
 * "stop" each player's figures since the mark come back ({"type":"result",…})
 * and the process exits.
 */
import { answer, childArg, onStdinCommands } from "./stdin-commands.ts";

export type HlsPlayerMessage =
  | { type: "ready"; firstPartMs: (number | null)[]; errors: string[] }
  | { type: "marked" }
  | {
      type: "result";
      seconds: number;
      players: { parts: number; segments: number; bytes: number; reloads: number; errors: number; error: string | null }[];
      /** announced → fetched, ms, every part fetched in the window by every player of this process. */
      announcedToFetchedMs: number[];
      /** Wall-clock ms (performance.timeOrigin + now) a blocking reload answer first listed each part, in this process. */
      firstListedAt: Record<string, number>;
      /** Every part fetched in the window: its URI and the wall-clock ms its last byte arrived. */
      fetchedAt: [string, number][];
    };

interface Counts {
  parts: number;
  segments: number;
  bytes: number;
  reloads: number;
  errors: number;
}

interface Listing {
  msn: number;
  part: number;
  uri: string;
  independent: boolean;
}
interface Parsed {
  mediaSequence: number;
  map: string | null;
  parts: Listing[];
  completeSegments: { msn: number; parts: number }[];
}

/** The parts a playlist lists (msn, index in its segment, URI), and its complete segments. */
function parse(text: string): Parsed {
  const out: Parsed = { mediaSequence: 0, map: null, parts: [], completeSegments: [] };
  let msn = -1;
  let part = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#EXT-X-MEDIA-SEQUENCE:")) {
      out.mediaSequence = Number(line.slice(22));
      msn = out.mediaSequence;
    } else if (line.startsWith("#EXT-X-MAP:")) out.map ??= /URI="([^"]+)"/.exec(line)?.[1] ?? null;
    else if (line.startsWith("#EXT-X-PART:")) {
      const uri = /URI="([^"]+)"/.exec(line)?.[1];
      if (uri) out.parts.push({ msn, part: part++, uri, independent: line.includes("INDEPENDENT=YES") });
    } else if (line !== "" && !line.startsWith("#")) {
      out.completeSegments.push({ msn, parts: part });
      msn++;
      part = 0;
    }
  }
  return out;
}

if (import.meta.main) {
  const url = new URL(childArg("hls-players", "url", false));
  const count = Number(childArg("hls-players", "count"));
  const maxSeconds = Number(childArg("hls-players", "max-seconds"));
  setTimeout(() => process.exit(3), maxSeconds * 1000).unref();
  const send = (m: HlsPlayerMessage) => answer(m);
  const at = (uri: string) => new URL(uri, url).href;
  let stopped = false;
  let delays: number[] = [];
  let firstListedAt: Record<string, number> = {};
  let fetchedAt: [string, number][] = [];
  const wall = () => performance.timeOrigin + performance.now();

  const players: { counts: Counts; error: string | null; firstPartMs: number | null; start: number }[] = [];
  let mark: { at: number; counts: Counts[] } | null = null;

  async function play(entry: (typeof players)[number]): Promise<void> {
    const c = entry.counts;
    const fetched = new Map<number, Set<number>>(); // msn → parts fetched
    const counted = new Set<number>();
    const first = parse(await (await fetch(url)).text());
    if (!first.map) throw new Error("no EXT-X-MAP in the playlist");
    const init = await fetch(at(first.map));
    if (init.status !== 200) throw new Error(`init segment: ${init.status}`);
    c.bytes += (await init.arrayBuffer()).byteLength;
    // Start at the newest part, as a low-latency player does.
    let newest = first.parts.at(-1);
    if (!newest) throw new Error("no EXT-X-PART in the playlist");
    let cursor = { msn: newest.msn, part: newest.part };
    let playlist: Parsed | null = first;
    let answeredAt = performance.now();
    while (!stopped) {
      for (const p of playlist?.parts ?? []) {
        if (p.msn < cursor.msn || (p.msn === cursor.msn && p.part < cursor.part)) continue;
        const res = await fetch(at(p.uri));
        if (res.status !== 200) {
          c.errors++;
          await res.arrayBuffer().catch(() => null);
          continue;
        }
        c.bytes += (await res.arrayBuffer()).byteLength;
        c.parts++;
        delays.push(performance.now() - answeredAt);
        fetchedAt.push([p.uri, wall()]);
        entry.firstPartMs ??= performance.now() - entry.start;
        let set = fetched.get(p.msn);
        if (!set) fetched.set(p.msn, (set = new Set()));
        set.add(p.part);
        cursor = { msn: p.msn, part: p.part + 1 };
      }
      for (const s of playlist?.completeSegments ?? []) {
        if (counted.has(s.msn)) continue;
        const set = fetched.get(s.msn);
        if (set && set.size === s.parts) {
          counted.add(s.msn);
          c.segments++;
          fetched.delete(s.msn);
        } else if (s.msn < cursor.msn) {
          counted.add(s.msn);
          fetched.delete(s.msn);
        } // joined mid-segment: not whole
      }
      // A segment completed on its last part: the next part is part 0 of the next segment. The blocking reload
      // for (msn, part) is answered once that part exists; one for a part number past a segment's end is
      // answered when the next segment starts (the draft's rule), which the cursor avoids by asking for part 0.
      const last = playlist?.completeSegments.at(-1);
      if (last && cursor.msn === last.msn && cursor.part >= last.parts) cursor = { msn: last.msn + 1, part: 0 };
      const res = await fetch(`${url.href}?_HLS_msn=${cursor.msn}&_HLS_part=${cursor.part}`);
      c.reloads++;
      if (res.status !== 200) {
        c.errors++;
        await res.arrayBuffer().catch(() => null);
        playlist = null;
        await Bun.sleep(100);
        continue;
      }
      playlist = parse(await res.text());
      answeredAt = performance.now();
      const now = wall();
      for (const p of playlist.parts) firstListedAt[p.uri] ??= now;
      // Fell out of the list (a stall): jump to the newest part.
      if (playlist.parts.length && cursor.msn < playlist.parts[0]!.msn) {
        newest = playlist.parts.at(-1)!;
        cursor = { msn: newest.msn, part: newest.part };
      }
    }
  }

  onStdinCommands<string>((command) => {
    if (command === "mark") {
      mark = { at: performance.now(), counts: players.map((p) => ({ ...p.counts })) };
      delays = [];
      fetchedAt = [];
      firstListedAt = {};
      send({ type: "marked" });
    } else if (command === "stop") {
      const m = mark ?? { at: performance.now(), counts: players.map(() => ({ parts: 0, segments: 0, bytes: 0, reloads: 0, errors: 0 })) };
      send({
        type: "result",
        seconds: (performance.now() - m.at) / 1000,
        players: players.map((p, i) => {
          const b = m.counts[i]!;
          return {
            parts: p.counts.parts - b.parts,
            segments: p.counts.segments - b.segments,
            bytes: p.counts.bytes - b.bytes,
            reloads: p.counts.reloads - b.reloads,
            errors: p.counts.errors - b.errors,
            error: p.error,
          };
        }),
        announcedToFetchedMs: delays.map((d) => Math.round(d * 10) / 10),
        firstListedAt,
        fetchedAt,
      });
      stopped = true;
      setTimeout(() => process.exit(0), 100);
    }
  });

  await Promise.all(
    Array.from({ length: count }, async () => {
      const entry: (typeof players)[number] = {
        counts: { parts: 0, segments: 0, bytes: 0, reloads: 0, errors: 0 },
        error: null,
        firstPartMs: null,
        start: performance.now(),
      };
      players.push(entry);
      const running = play(entry).catch((err) => {
        entry.error = (err as Error).message;
      });
      const deadline = performance.now() + 25_000;
      while (entry.firstPartMs === null && entry.error === null && performance.now() < deadline) await Bun.sleep(20);
      if (entry.firstPartMs === null) entry.error ??= "no part in 25 s";
      void running;
    }),
  );
  send({ type: "ready", firstPartMs: players.map((p) => p.firstPartMs), errors: players.flatMap((p) => (p.error ? [p.error] : [])) });
}

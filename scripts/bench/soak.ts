/**
 * Soak benchmark: one glasscast server for a long run (30 min by default)
 * capturing a 1280x720 30 fps MJPEG webcam (the fake test/fakes/ffmpeg on
 * /dev/video7; --testsrc for ffmpeg's pattern), watched by MJPEG viewers and
 * werift WebRTC peers that come and go at random, plus one MJPEG viewer that
 * never reads. Every --kill-every s the capture process is SIGKILLed;
 * glasscast shows NO SIGNAL and restarts it. Prints a Markdown report on
 * stdout, one sample row every --sample-every s as it is taken (progress on
 * stderr); exits 0 whether targets are met or missed, 1 when the benchmark
 * could not run.
 *
 *   bun run scripts/bench/soak.ts [--minutes 30] [--mjpeg 20] [--webrtc 3] [--kill-every 120] [--sample-every 60] [--binary PATH]
 *
 * Each viewer slot cycles: connected for a random 5–60 s, away for 1–10 s
 * (lib/churn.ts). MJPEG viewers (lib/mjpeg-viewers.ts --classify, raw TCP, in
 * --clients processes) decode each distinct JPEG once to tell a real camera
 * frame from the NO SIGNAL picture and from a JPEG that does not decode
 * (lib/frame-kind.ts); WebRTC peers are the werift receivers of
 * webrtc-peers.ts (lib/webrtc-receivers.ts, noting each access unit's
 * arrival). After each kill, every viewer that was watching is followed for
 * up to 20 s: the time from the SIGKILL to its picture coming back
 * (lib/recovery.ts). The run itself (samples, checkpoints, kills) is
 * lib/soak-run.ts; this file starts everything, stops it and reports.
 *
 * Samples: the server's RSS, open fds, CPU (itself and its children) since
 * the previous sample, viewers connected (ours and the server's count from
 * /api/streams), frames delivered so far, kills so far, whether the server is
 * the same process, the stalled viewer's socket. The warm-up is the first
 * 2 minutes (--warmup; at most a third of the run): the first sample at or
 * after it is the baseline. The baseline and the final sample are
 * checkpoints: the comings and goings pause, every viewer is connected and
 * has a picture, 3 s pass, then RSS and fds are read every 0.5 s for 5 s
 * (medians), so that both see the same load. RSS and fd growth are from the
 * baseline to the final sample.
 */
import { cpus } from "node:os";
import { installExitHandlers, runBenchmark, stopTree } from "./lib/children.ts";
import { FAKE_CAMERA_ENV, FAKE_DEVICE, FAKE_FFMPEG, prepareFakeCamera } from "./lib/fake-camera.ts";
import { fixed as f } from "./lib/report.ts";
import { pictureArgs, startServer } from "./lib/server-process.ts";
import { parseArgsOrExit, recoveryWindowS, warmupS } from "./lib/soak-args.ts";
import { SlotPool } from "./lib/viewer-pool.ts";
import { clock, killsTable, sampleHeader, sampleRow, targetsTable, type SampleRow } from "./lib/soak-report.ts";
import { CHECKPOINT_READINGS, CHECKPOINT_SETTLE_MS, killLoop, sampleLoop, SoakRun, watchServer, type Sample } from "./lib/soak-run.ts";
import { StalledSeat } from "./lib/stalled-viewer.ts";
import { ReceiverProcess } from "./lib/webrtc-pool.ts";
import { apiStreams } from "./lib/webrtc-server.ts";

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const log = (message: string) => process.stderr.write(`${message}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

function frameNotes(run: SoakRun, final: Sample | null): void {
  const m = final?.mjpegTotals;
  if (m) {
    const parts = m.real + m.repeats + m.placeholders + m.broken;
    run.notes.push(
      `MJPEG viewers: ${m.real} real camera frames, ${m.placeholders} NO SIGNAL pictures, ${m.repeats} repeated frames, ` +
        `${m.broken} parts that are no decodable JPEG; ${f(m.real / Math.max(1, m.viewerSeconds))} real frames per second of connection ` +
        `(the outages included); ${(m.bytes / 1e9).toFixed(2)} GB read; ${m.decoded} distinct JPEGs decoded to tell them apart`,
    );
    if (m.broken) {
      run.notes.push(
        `**${m.broken} of ${parts} MJPEG parts (${f((100 * m.broken) / Math.max(1, parts))} %) did not decode** ` +
          `(last: ${m.lastBroken ?? "?"}); they count as no picture`,
      );
    }
    if (m.failures) run.notes.push(`${m.failures} MJPEG connections ended without our asking (last: ${m.lastFailure ?? "?"})`);
  }
  const peers = final?.peers;
  if (peers) {
    const errors = peers.filter((p) => p.error !== null && p.error !== "left before its first frame");
    for (const message of new Set(errors.map((p) => p.error!))) run.notes.push(`WebRTC: ${errors.filter((p) => p.error === message).length} × ${message}`);
    const never = peers.filter((p) => !p.hasFrame && p.error === "left before its first frame").length;
    if (never) run.notes.push(`WebRTC: ${never} peers left before their first frame`);
  }
}

async function main(): Promise<void> {
  const o = parseArgsOrExit(process.argv.slice(2));
  installExitHandlers();
  const source = o.testsrc ? "testsrc" : FAKE_DEVICE;
  if (!o.testsrc) {
    log(`fake camera: making its ${WIDTH}x${HEIGHT} MJPEG recording (reused when it exists)…`);
    await prepareFakeCamera(WIDTH, HEIGHT, FPS);
  }
  log("starting the server…");
  const server = await startServer({
    binary: o.binary,
    width: WIDTH,
    height: HEIGHT,
    fps: FPS,
    source,
    env: o.testsrc ? {} : FAKE_CAMERA_ENV,
    args: [...(o.testsrc ? [] : ["--ffmpeg", FAKE_FFMPEG]), "--webrtc-candidate", "127.0.0.1"],
  });
  const base = `http://127.0.0.1:${server.port}`;
  log(`server ready at ${base} (pid ${server.proc.pid})`);
  const instance = (await apiStreams(base))?.instance ?? null;
  const maxSeconds = Math.ceil(o.seconds) + 300;
  const mjpeg = o.mjpeg ? await SlotPool.start(server.port, Math.min(o.clients, o.mjpeg), maxSeconds) : null;
  const receivers = o.webrtc ? ReceiverProcess.spawn(base, maxSeconds, true) : null;
  if (receivers && !(await receivers.next("ready", 15_000))) throw new Error("the werift receiver process did not start");
  const stalled = await StalledSeat.start(server.port);

  const head = o.binary ? [o.binary] : ["bun", "run", "src/cli.ts"];
  const command = [
    ...(o.testsrc ? [] : ["FAKE_CAMERA_FORMATS=mjpeg"]),
    ...head,
    ...(o.testsrc ? [] : ["--ffmpeg", "test/fakes/ffmpeg"]),
    "--source",
    source,
    ...pictureArgs(WIDTH, HEIGHT, FPS),
    "--webrtc-candidate",
    "127.0.0.1",
    "--always-on",
  ];
  const cpuModel = cpus()[0]?.model ?? "unknown CPU";
  out(
    `## Soak: ${WIDTH}x${HEIGHT} at ${FPS} fps ${o.testsrc ? "testsrc" : "MJPEG webcam (fake)"}, ` +
      `${o.mjpeg} MJPEG viewers + 1 stalled, ${o.webrtc} WebRTC peers, ${clock(o.seconds)} min`,
  );
  out("");
  out(
    `${new Date().toISOString().slice(0, 10)} · ${cpus().length} cores (${cpuModel}) · Bun ${Bun.version} · server: \`${command.join(" ")}\` · ` +
      `capture SIGKILLed every ${o.killEvery} s · a sample every ${o.sampleEvery} s · warm-up ${clock(warmupS(o))} · ` +
      `viewers connected 5–60 s, away 1–10 s; MJPEG viewers in ${mjpeg?.procs.length ?? 0} process(es), raw TCP; werift peers in one process`,
  );
  out("");
  out(sampleHeader());

  const run = new SoakRun(o, server, base, instance, mjpeg, receivers, stalled);
  const rows: SampleRow[] = [];
  let final: Sample | null = null;
  const watcher = watchServer(run);
  try {
    run.mjpegChurn?.start();
    run.webrtcChurn?.start();
    // The loops end at the run's end (or when the server is gone); then the final checkpoint.
    await Promise.all([killLoop(run), sampleLoop(run, rows, (row) => out(sampleRow(row))), run.at(o.seconds)]);
    if (!run.aborted) {
      log(`${clock(run.elapsedS)}: the run is over; final checkpoint…`);
      final = await run.checkpoint("final");
    } else {
      final = await run.sample("final");
    }
    rows.push(final);
    out(sampleRow(final));
    const ended = (p: { proc: { exitCode: number | null; signalCode: string | number | null } }) => p.proc.exitCode !== null || p.proc.signalCode !== null;
    if (mjpeg?.procs.some(ended)) run.notes.push("an MJPEG viewer process ended before the run did; its viewers' figures stop there");
    if (receivers && ended(receivers)) run.notes.push("the werift receiver process ended before the run did; the WebRTC figures stop there");
  } finally {
    run.stop.abort();
    await watcher;
    run.mjpegChurn?.stop();
    run.webrtcChurn?.stop();
    if (receivers) {
      receivers.send({ type: "close" });
      await receivers.next("closed", 10_000);
      await receivers.end();
    }
    await mjpeg?.end();
    await stopTree(stalled.viewer.proc);
    const leftovers = await stopTree(server.proc);
    if (leftovers.length) run.notes.push(`the server left ${leftovers.map((s) => `${s.comm} (pid ${s.pid})`).join(", ")} running after it exited; killed`);
  }

  frameNotes(run, final);
  const drops = stalled.drops;
  run.notes.push(
    drops.length
      ? `the server closed the stalled viewer's connection ${drops.length} time(s), ${f(Math.min(...drops), 0)}–${f(Math.max(...drops), 0)} s after it connected ` +
          "(seen within 2 s; glasscast closes a connection on which no byte moved for 60 s); each time a new stalled viewer connected"
      : "the server kept the stalled viewer's connection for the whole run",
  );
  const baseline = rows.find((r) => r.checkpoint === "baseline") ?? null;
  const after = baseline ? rows.slice(rows.indexOf(baseline)) : [];
  // The range of the samples from the baseline on, and their least-squares slope once they span 5 minutes (shorter is noise).
  const spread = (pick: (r: SampleRow) => number | null | undefined, unit: string, digits: number) => {
    const points = after.flatMap((r) => {
      const v = pick(r);
      return v === null || v === undefined ? [] : [{ x: r.elapsedS / 3600, y: v }];
    });
    if (points.length < 2) return null;
    const ys = points.map((p) => p.y);
    let text = `${f(Math.min(...ys), digits)}–${f(Math.max(...ys), digits)} ${unit}`;
    if (points.at(-1)!.x - points[0]!.x >= 5 / 60) {
      const mx = points.reduce((t, p) => t + p.x, 0) / points.length;
      const my = points.reduce((t, p) => t + p.y, 0) / points.length;
      const sxx = points.reduce((t, p) => t + (p.x - mx) ** 2, 0);
      const slope = points.reduce((t, p) => t + (p.x - mx) * (p.y - my), 0) / sxx;
      text += ` (least-squares trend ${slope >= 0 ? "+" : ""}${f(slope, 1)} ${unit} per hour)`;
    }
    return text;
  };
  const rssSpread = spread((r) => r.rssMb, "MB", 1);
  const fdSpread = spread((r) => r.fds?.total, "fds", 0);
  if (rssSpread && fdSpread) run.notes.push(`from the baseline on, over ${after.length} samples: server RSS ${rssSpread}, open fds ${fdSpread}`);
  const windowS = recoveryWindowS(o);
  out("");
  out(
    "Elapsed: since the viewers first connected (the server was started before). CPU: % of one core since the previous sample " +
      "(glasscast: the server process; children: its ffmpeg capture and H.264 encoder, those killed or restarted in between included); " +
      "machine busy: all cores = 100 %. " +
      "Viewers: connected as our load generators count them (MJPEG: without the stalled viewer; WebRTC: with a frame), and in brackets as " +
      'the server counts them (/api/streams; MJPEG includes the stalled viewer); "stuck": connected, no part for 3 s. Frames: since the start, all viewers together, ' +
      "MJPEG real camera frames only (not the NO SIGNAL picture). Stalled viewer: the bytes it received and never read, and the server's end " +
      "of its connection (/proc/net/tcp); when the server drops it, a new one connects. MB = 10^6 bytes. " +
      `The baseline (the first sample after the ${clock(warmupS(o))} warm-up) and the final sample are checkpoints: ` +
      `the comings and goings pause, every viewer is connected with a picture, ${CHECKPOINT_SETTLE_MS / 1000} s pass, then RSS and fds are ` +
      `the medians of ${CHECKPOINT_READINGS} readings 0.5 s apart (its CPU and counts are read after them).`,
  );
  out("");
  out("### Kills");
  out("");
  out(run.kills.length ? killsTable(run.kills, o.mjpeg > 0, o.webrtc > 0, windowS) : "No kill was measured.");
  out("");
  out("### Targets");
  out("");
  out(
    targetsTable({
      baseline,
      final,
      kills: run.kills,
      withMjpeg: o.mjpeg > 0,
      withWebrtc: o.webrtc > 0,
      serverRestarts: run.serverRestarts,
      restartText: run.restartText,
    }),
  );
  if (run.notes.length) out(["", "Notes:", ...run.notes.map((n) => `- ${n}`)].join("\n"));
}

await runBenchmark("soak", main);

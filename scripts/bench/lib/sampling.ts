/** One reading of a round, taken at the start and the end of its window: CPU of the server tree, the load generator, the machine. */
import { type CpuSample, machineTicks, type ProcStat, processTree, sampleCpu } from "./proc-stats.ts";

export interface RoundSample {
  /** The server and every process under it (capture, encoders), server first. */
  tree: ProcStat[];
  /** CPU of that whole tree. */
  server: CpuSample;
  /** The server's own process alone. */
  main: CpuSample;
  /** The processes under it. */
  capture: CpuSample;
  /** The load generator: the client processes and theirs. */
  client: CpuSample;
  machine: { busy: number; total: number };
}

export function sampleRound(serverPid: number, clientPids: number[]): RoundSample {
  const tree = processTree(serverPid);
  const clients = clientPids.flatMap((pid) => processTree(pid));
  return {
    tree,
    server: sampleCpu(tree),
    main: sampleCpu(tree.slice(0, 1)),
    capture: sampleCpu(tree.slice(1)),
    client: sampleCpu(clients),
    machine: machineTicks(),
  };
}

/** How busy the whole machine was between two readings: every core together = 100 %. */
export function busyPct(begin: { machine: { busy: number; total: number } }, end: { machine: { busy: number; total: number } }): number {
  return (100 * (end.machine.busy - begin.machine.busy)) / Math.max(1, end.machine.total - begin.machine.total);
}

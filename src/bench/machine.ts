/**
 * What a `glasscast bench` report says about the machine it ran on: the
 * board or CPU model, cores, memory page size (a Pi 5 kernel uses 16 kB
 * pages, which some programs mind), memory, kernel, ffmpeg's version.
 */
import { readFileSync } from "node:fs";
import { arch, cpus, release, totalmem } from "node:os";
import { runTool } from "../devices/run-tool.ts";

export interface MachineInfo {
  /** The board (device tree model: "Raspberry Pi 4 Model B Rev 1.4"), else the CPU model. */
  readonly model: string;
  readonly cpu: string;
  readonly cores: number;
  readonly arch: string;
  readonly pageSize: number | null;
  readonly memoryMb: number;
  readonly kernel: string;
  /** ffmpeg -version's first line, or why it could not be read. */
  readonly ffmpeg: string;
  readonly bun: string;
}

function deviceTreeModel(): string | null {
  try {
    const model = readFileSync("/proc/device-tree/model", "latin1").replace(/\0/g, "").trim();
    return model || null;
  } catch {
    return null;
  }
}

/** The CPU model from /proc/cpuinfo ("model name", or on ARM the "CPU part" code's name). */
function cpuModel(): string {
  const fromNode = cpus()[0]?.model?.trim();
  if (fromNode && fromNode !== "unknown") return fromNode;
  let text = "";
  try {
    text = readFileSync("/proc/cpuinfo", "latin1");
  } catch {
    return "unknown CPU";
  }
  const part = /^CPU part\s*:\s*(0x[0-9a-f]+)/im.exec(text)?.[1]?.toLowerCase();
  const arm: Record<string, string> = { "0xd03": "Cortex-A53", "0xd08": "Cortex-A72", "0xd0b": "Cortex-A76", "0xd07": "Cortex-A57", "0xd05": "Cortex-A55" };
  return (part && arm[part]) ?? /^model name\s*:\s*(.+)$/im.exec(text)?.[1] ?? "unknown CPU";
}

async function pageSize(): Promise<number | null> {
  try {
    const { code, stdout } = await runTool(["getconf", "PAGESIZE"], 3000);
    const n = Number(stdout.trim());
    return code === 0 && n > 0 ? n : null;
  } catch {
    return null;
  }
}

async function ffmpegVersion(ffmpeg: string): Promise<string> {
  const path = Bun.which(ffmpeg);
  if (path === null) return `${ffmpeg}: not found`;
  try {
    const { stdout } = await runTool([path, "-hide_banner", "-version"], 5000);
    return (
      stdout
        .split("\n")[0]
        ?.replace(/ Copyright.*$/, "")
        .trim() || "ffmpeg: no version printed"
    );
  } catch (err) {
    return `ffmpeg: ${(err as Error).message}`;
  }
}

export async function machineInfo(ffmpeg: string): Promise<MachineInfo> {
  const cpu = cpuModel();
  const [page, ffmpegLine] = await Promise.all([pageSize(), ffmpegVersion(ffmpeg)]);
  return {
    model: deviceTreeModel() ?? cpu,
    cpu,
    cores: cpus().length,
    arch: arch(),
    pageSize: page,
    memoryMb: Math.round(totalmem() / 1e6),
    kernel: release(),
    ffmpeg: ffmpegLine,
    bun: Bun.version,
  };
}

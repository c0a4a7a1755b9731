/**
 * The machine: which board (the device tree's model on a Raspberry Pi, DMI's
 * product name on a PC), the OS, the kernel and its page size (16 KiB with
 * the Pi 5's own kernel), the CPU and the memory free, read from the files
 * of the system root (root.ts).
 */
import { closeSync, openSync, readSync } from "node:fs";
import { boardOf } from "../sources/libcamera/board.ts";
import type { Board } from "../sources/camera-plan.ts";
import { finding, type Finding } from "./finding.ts";
import type { SystemRoot } from "./root.ts";

export interface Machine {
  /** The device tree's model ("Raspberry Pi 5 Model B Rev 1.0"), or null on a machine without one. */
  readonly model: string | null;
  readonly board: Board;
}

/** /proc/device-tree/model (a link into /sys/firmware/devicetree/base), else the firmware folder itself. */
export function readMachine(sys: SystemRoot): Machine {
  const raw = sys.read("/proc/device-tree/model") ?? sys.read("/sys/firmware/devicetree/base/model");
  const model = raw === null ? null : raw.replace(/\0/g, "").trim() || null;
  return { model, board: model === null ? "other" : boardOf(model) };
}

export function boardFinding(sys: SystemRoot, machine: Machine): Finding {
  if (machine.model === null) {
    const vendor = sys.read("/sys/class/dmi/id/sys_vendor")?.trim();
    const product = sys.read("/sys/class/dmi/id/product_name")?.trim();
    const name = [vendor, product].filter((s) => s && s !== "To Be Filled By O.E.M.").join(" ");
    return finding("board", "ok", `board: ${name || "unknown (no device tree model, no DMI product name)"}`, "not a Raspberry Pi");
  }
  const detail =
    machine.board === "pi5"
      ? "a Raspberry Pi 5: no hardware video encoder, so H.264 for WebRTC is encoded by libx264 on the CPU, and Pi cameras give JPEG or raw pictures"
      : machine.board === "pi-with-encoders"
        ? "a Raspberry Pi with hardware H.264 and JPEG encoders (--h264-encoder h264_v4l2m2m, and rpicam-vid's own)"
        : null;
  return finding("board", "ok", `board: ${machine.model}`, detail);
}

export function osFinding(sys: SystemRoot): Finding {
  const release = sys.read("/etc/os-release") ?? sys.read("/usr/lib/os-release");
  const pretty = release === null ? null : (osReleaseValue(release, "PRETTY_NAME") ?? osReleaseValue(release, "NAME"));
  return finding("os", "ok", `OS: ${pretty ?? "unknown (no /etc/os-release)"}`, `glasscast built for linux-${process.arch}`);
}

/** A value of os-release's KEY="VALUE" lines, quotes removed. */
export function osReleaseValue(text: string, key: string): string | null {
  const m = new RegExp(`^${key}=(.*)$`, "m").exec(text);
  if (!m) return null;
  return m[1]!.trim().replace(/^(["'])(.*)\1$/, "$2") || null;
}

/** The kernel's page size in bytes, from the first mapping of /proc/self/smaps (KernelPageSize), or null. */
export function pageSize(sys: SystemRoot): number | null {
  // smaps is long (every mapping of this process); the first mapping's lines are enough.
  let text: string;
  try {
    const fd = openSync(sys.path("/proc/self/smaps"), "r");
    try {
      const buf = Buffer.alloc(8192);
      text = buf.toString("latin1", 0, readSync(fd, buf, 0, buf.length, null));
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  const kb = /^KernelPageSize:\s+(\d+) kB$/m.exec(text)?.[1];
  return kb === undefined ? null : Number(kb) * 1024;
}

export function kernelFinding(sys: SystemRoot, machine: Machine): Finding {
  const release = sys.read("/proc/sys/kernel/osrelease")?.trim() ?? "unknown";
  const page = pageSize(sys);
  const pageText = page === null ? "page size unknown" : `${page / 1024} KiB pages`;
  let detail: string | null = null;
  if (page !== null && page > 4096) {
    // glasscast itself runs on it (this report is its proof); some other programs assume 4 KiB pages.
    detail = `${page / 1024} KiB pages${machine.board === "pi5" ? " (the Pi 5's own kernel, kernel_2712.img)" : ""}: glasscast, ffmpeg and rpicam-apps run on it; a program that fails with "Unsupported system page size" needs the 4 KiB kernel: kernel=kernel8.img in /boot/firmware/config.txt, then reboot`;
  }
  return finding("kernel", "ok", `kernel: Linux ${release}, ${pageText}`, detail);
}

/** ARM cores by their CPU part number (/proc/cpuinfo's "CPU part" with implementer 0x41). */
const ARM_CORES: Record<string, string> = {
  "0xd03": "Cortex-A53",
  "0xd04": "Cortex-A35",
  "0xd05": "Cortex-A55",
  "0xd07": "Cortex-A57",
  "0xd08": "Cortex-A72",
  "0xd09": "Cortex-A73",
  "0xd0a": "Cortex-A75",
  "0xd0b": "Cortex-A76",
  "0xd0d": "Cortex-A77",
  "0xd41": "Cortex-A78",
  "0xd44": "Cortex-X1",
  "0xd46": "Cortex-A510",
  "0xd47": "Cortex-A710",
  "0xd0c": "Neoverse-N1",
  "0xd40": "Neoverse-V1",
  "0xd49": "Neoverse-N2",
};

/** The SIMD features the JPEG and H.264 encoders use, where the CPU has them. */
const SIMD = ["asimd", "neon", "sse2", "ssse3", "sse4_2", "avx2", "avx512f"];

export interface CpuInfo {
  readonly cores: number;
  readonly model: string | null;
  readonly simd: readonly string[];
}

export function parseCpuinfo(text: string): CpuInfo {
  const values = (key: string) => [...text.matchAll(new RegExp(`^${key}\\s*:\\s*(.*)$`, "gm"))].map((m) => m[1]!.trim());
  const cores = values("processor").length;
  const named = values("model name")[0];
  const part = values("CPU part")[0];
  const implementer = values("CPU implementer")[0];
  const model =
    named ?? (part !== undefined && implementer === "0x41" ? (ARM_CORES[part] ?? `ARM core ${part}`) : part !== undefined ? `CPU part ${part}` : null);
  const features = new Set((values("flags")[0] ?? values("Features")[0] ?? "").split(/\s+/));
  return { cores, model, simd: SIMD.filter((f) => features.has(f)) };
}

export function cpuFinding(sys: SystemRoot): Finding {
  const text = sys.read("/proc/cpuinfo");
  if (text === null) return finding("cpu", "ok", "CPU: unknown (no /proc/cpuinfo)");
  const cpu = parseCpuinfo(text);
  const simd = cpu.simd.length > 0 ? ` (${cpu.simd.join(" ")})` : "";
  return finding("cpu", "ok", `CPU: ${cpu.cores} × ${cpu.model ?? "unknown model"}${simd}`);
}

/** Below this much memory available, an encoder at 720p (tens of MiB each) may be killed by the kernel. */
const LOW_MEMORY = 128 * 1024 * 1024;

export function memoryFinding(sys: SystemRoot): Finding {
  const text = sys.read("/proc/meminfo");
  const kb = (key: string) => {
    const v = text === null ? undefined : new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(text)?.[1];
    return v === undefined ? null : Number(v) * 1024;
  };
  const total = kb("MemTotal");
  const available = kb("MemAvailable");
  if (total === null || available === null) return finding("memory", "ok", "memory: unknown (no /proc/meminfo)");
  const summary = `memory: ${mib(available)} available of ${mib(total)}`;
  if (available < LOW_MEMORY) {
    return finding(
      "memory",
      "warn",
      summary,
      `less than ${mib(LOW_MEMORY)} available: an encoder may be killed for want of memory`,
      "stop programs this machine does not need, or lower --width and --height",
    );
  }
  return finding("memory", "ok", summary);
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}

/**
 * What slows a Raspberry Pi down on its own: under-voltage (the firmware's
 * alarm, as the raspberrypi-hwmon driver shows it: the hwmon named rpi_volt,
 * in0_lcrit_alarm) and heat (thermal zone 0, the SoC; the Pi lowers its clock
 * from 80 °C). Read from the system root; no finding where a machine has
 * neither file.
 */
import { readdirSync } from "node:fs";
import { finding, type Finding } from "./finding.ts";
import type { Machine } from "./machine.ts";
import type { SystemRoot } from "./root.ts";

/** The Pi 4 and Pi 5 slow their CPU from here on (the firmware's soft limit). */
export const HOT_CELSIUS = 80;

const PSU: Record<Machine["board"], string> = {
  pi5: "the Raspberry Pi 27 W USB-C power supply (5.1 V, 5 A)",
  "pi-with-encoders": "the Raspberry Pi power supply for this board (a Pi 4: 5.1 V, 3 A USB-C)",
  other: "a power supply that gives the board its rated current",
};

export function powerFinding(sys: SystemRoot, machine: Machine): Finding | null {
  const hwmon = "/sys/class/hwmon";
  let entries: string[];
  try {
    entries = readdirSync(sys.path(hwmon));
  } catch {
    return null;
  }
  const volt = entries.find((e) => sys.read(`${hwmon}/${e}/name`)?.trim() === "rpi_volt");
  const alarm = volt === undefined ? null : sys.read(`${hwmon}/${volt}/in0_lcrit_alarm`)?.trim();
  if (alarm === null || alarm === undefined) return null;
  if (alarm === "0") return finding("power", "ok", "power: no under-voltage reported");
  return finding(
    "power",
    "warn",
    "power: under-voltage detected; the Pi slows down and USB cameras may drop out",
    "the firmware's under-voltage alarm is set (rpi_volt in0_lcrit_alarm = 1)",
    `use ${PSU[machine.board]}, and a short, thick cable`,
  );
}

export function temperatureFinding(sys: SystemRoot): Finding | null {
  const raw = sys.read("/sys/class/thermal/thermal_zone0/temp")?.trim();
  if (raw === undefined || !/^-?\d+$/.test(raw)) return null;
  const celsius = Number(raw) / 1000;
  const summary = `temperature: ${celsius.toFixed(1)} °C`;
  if (celsius < HOT_CELSIUS) return finding("temperature", "ok", summary);
  return finding(
    "temperature",
    "warn",
    `${summary}; the CPU slows itself from ${HOT_CELSIUS} °C`,
    null,
    "cool it: a heatsink, or a fan (the Pi 5's Active Cooler), and air around the case",
  );
}

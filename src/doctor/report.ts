/**
 * The doctor's findings as people read them (one line each with its mark,
 * ✓ ok, ! warn, ✗ fail, then its facts and its fix indented below) or as one
 * JSON document, and the exit status: 1 when anything failed.
 */
import type { Finding, Status } from "./finding.ts";

const MARK: Record<Status, string> = { ok: "✓", warn: "!", fail: "✗" };

export interface DoctorReport {
  readonly glasscast: string;
  /** The worst status among the findings. */
  readonly status: Status;
  readonly findings: readonly Finding[];
}

export function doctorReport(version: string, findings: readonly Finding[]): DoctorReport {
  const status: Status = findings.some((f) => f.status === "fail") ? "fail" : findings.some((f) => f.status === "warn") ? "warn" : "ok";
  return { glasscast: version, status, findings };
}

export function exitStatus(report: DoctorReport): number {
  return report.status === "fail" ? 1 : 0;
}

export function formatReport(report: DoctorReport): string {
  const lines = [`glasscast ${report.glasscast} doctor`];
  for (const f of report.findings) {
    lines.push(`${MARK[f.status]} ${f.summary}`);
    if (f.detail !== null) lines.push(`    ${f.detail}`);
    if (f.fix !== null) lines.push(`    fix: ${f.fix}`);
  }
  const count = (s: Status) => report.findings.filter((f) => f.status === s).length;
  const [fails, warns] = [count("fail"), count("warn")];
  lines.push(
    fails + warns === 0
      ? "all good"
      : [
          fails > 0 ? `${fails} problem${fails > 1 ? "s" : ""} (✗) to fix before glasscast can do what it is asked` : "",
          warns > 0 ? `${warns} warning${warns > 1 ? "s" : ""} (!)` : "",
        ]
          .filter(Boolean)
          .join("; "),
  );
  return `${lines.join("\n")}\n`;
}

export function jsonReport(report: DoctorReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

import { describe, expect, test } from "bun:test";
import { REPORT_BYTES_PER_S, REPORT_FRAMES_PER_S, ReportBudget } from "../src/outputs/rtsp/report-budget.ts";

describe("an RTSP player's receiver-report budget", () => {
  test("a report every second for an hour is always within it", () => {
    let t = 0;
    const budget = new ReportBudget(() => t);
    for (let i = 0; i < 3600; i++, t += 1000) expect(budget.take(60)).toBe(true);
  });

  test("a burst of a few seconds' worth passes; one frame more at the same instant does not", () => {
    const budget = new ReportBudget(() => 0);
    for (let i = 0; i < REPORT_FRAMES_PER_S * 4; i++) expect(budget.take(8)).toBe(true);
    expect(budget.take(8)).toBe(false);
  });

  test("bytes count as well as frames: a few large frames spend it", () => {
    const budget = new ReportBudget(() => 0);
    expect(budget.take(REPORT_BYTES_PER_S * 4)).toBe(true);
    expect(budget.take(1)).toBe(false);
  });

  test("spent, it refills at its rate, and never beyond its burst", () => {
    let t = 0;
    const budget = new ReportBudget(() => t);
    while (budget.take(8)) {}
    t += 1000;
    let refilled = 0;
    while (budget.take(8)) refilled++;
    // A second's worth, less the frame that overdrew it.
    expect(refilled).toBe(REPORT_FRAMES_PER_S - 1);
    // An hour of quiet does not bank an hour of frames.
    t += 3_600_000;
    let passed = 0;
    while (budget.take(8)) passed++;
    expect(passed).toBe(REPORT_FRAMES_PER_S * 4);
  });
});

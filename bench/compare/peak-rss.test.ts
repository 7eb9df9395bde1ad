import { expect, it } from "vitest";
import { statusFieldBytes } from "./peak-rss.js";

it("reads VmHWM and VmRSS from /proc/PID/status in bytes", () => {
  const status = "Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
  expect(statusFieldBytes(status, "VmHWM")).toBe(200 * 1024 * 1024);
  expect(statusFieldBytes(status, "VmRSS")).toBe(100 * 1024 * 1024);
  expect(statusFieldBytes("Name:\tkthread\n", "VmRSS")).toBeNull();
});

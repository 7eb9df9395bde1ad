import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "testing/**/*.test.ts", "bench/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real-process tests spawn members; two workers keep a 2-core machine responsive.
    maxWorkers: 2,
  },
});

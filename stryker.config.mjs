// Mutation testing of the pure core (`npm run test:mutation`): StrykerJS changes one operator, literal or branch at
// a time in the modules below and runs the tests of vitest.mutation.config.mts against each change. A change that
// no test notices ("survived") is behaviour that no test pins. It works in a copy of the repository under
// .stryker-tmp/, so the working tree, the Docker engine and the shared ports are never touched.
// StrykerJS 9.x: version 10 needs Node 22, and the machines that run this suite here have Node 20.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.mts" },
  plugins: ["@stryker-mutator/vitest-runner"],
  mutate: [
    "infra/app-spec.ts",
    "infra/config.ts",
    "infra/env.ts",
    "infra/local-spec.ts",
    "ops/preview-summary.ts",
    "ops/reaper.ts",
    "ops/tags.ts",
    "app/src/form.ts",
    "app/src/settings.ts",
  ],
  // Only what the tests import is copied into the sandbox (node_modules are linked, not copied).
  ignorePatterns: [
    "/*",
    "!/app",
    "/app/*",
    "!/app/src",
    "!/app/migrations",
    "!/app/build.mjs",
    "!/app/package.json",
    "!/app/package-lock.json",
    "!/configuration",
    "!/Dockerfile",
    "!/.dockerignore",
    "!/infra",
    "!/ops",
    "!/tests",
    "!/package.json",
    "!/Pulumi.yaml",
    "!/tsconfig.json",
    "!/vitest.mutation.config.mts",
  ],
  // Per-test coverage: each mutant runs only the tests that reach it.
  coverageAnalysis: "perTest",
  // Later runs test again only the mutants whose code or covering tests changed (`--force` tests them all).
  incremental: true,
  incrementalFile: "reports/mutation/stryker-incremental.json",
  // Two worker processes on a 2-core machine; STRYKER_CONCURRENCY=1 when others need the CPU.
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  reporters: ["clear-text", "progress-append-only", "html"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
};

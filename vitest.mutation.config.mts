// The tests that `npm run test:mutation` runs against each mutant: the unit tests of the pure core, which need
// neither Docker nor Postgres nor the network, so thousands of runs stay cheap and never touch the shared engine.
// stryker.config.mjs lists the modules they cover; a test file added here should cover one of those.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export const PURE_CORE_TESTS = [
  "tests/infra/app-spec.test.ts",
  "tests/infra/app-spec-guards.test.ts",
  "tests/infra/config.test.ts",
  "tests/infra/config-limits.test.ts",
  "tests/infra/env.test.ts",
  "tests/infra/env-secrets.test.ts",
  "tests/infra/local-spec.test.ts",
  "tests/infra/local-spec-containers.test.ts",
  "tests/ops/preview-summary.test.ts",
  "tests/ops/preview-summary-corners.test.ts",
  "tests/ops/reaper.test.ts",
  "tests/ops/tags.test.ts",
  "tests/ops/tags-edges.test.ts",
  "tests/app/form.test.ts",
  "tests/configuration/load-settings.test.ts",
  "tests/configuration/settings-edges.test.ts",
];

export default defineConfig({
  // infra/config.ts imports the Pulumi SDK for loadStackConfig only; tests/support/pulumi-unloaded.ts says why.
  resolve: { alias: { "@pulumi/pulumi": fileURLToPath(new URL("tests/support/pulumi-unloaded.ts", import.meta.url)) } },
  test: {
    include: PURE_CORE_TESTS,
  },
});

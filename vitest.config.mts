import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // `npm run test:mutation` keeps copies of the repository, tests included, in .stryker-tmp/.
    exclude: [...configDefaults.exclude, ".stryker-tmp/**"],
    // Container and database tests start real servers: give them room, and run files one at a time on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    // @actions/workflow-parser imports its JSON schema without an import attribute; inlining lets vite load it.
    server: { deps: { inline: ["@actions/workflow-parser"] } },
  },
});

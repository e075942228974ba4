// Bundles the two entry points into single files: the image then needs no node_modules at all.
//   app/src/server.ts  → dist/server.js   (`node dist/server.js`)
//   app/src/migrate.ts → dist/migrate.js  (`node dist/migrate.js`, finds ../migrations from its own file)
// Usage: `node build.mjs [outdir]` (default app/dist). Also importable: `build({ outdir })`.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const appDir = dirname(fileURLToPath(import.meta.url));

/**
 * node-pg-migrate creates a jiti instance when it loads, to import JS/TS migrations; ours are SQL only, read by its
 * SQL loader. jiti (1.7 MB with its Babel) is replaced by a stub that refuses such files, which also keeps jiti from
 * creating a cache folder at start, which would fail on a read-only filesystem anyway.
 */
const noJiti = {
  name: "no-jiti",
  setup(build) {
    build.onResolve({ filter: /^jiti$/ }, () => ({ path: "jiti", namespace: "no-jiti" }));
    build.onLoad({ filter: /.*/, namespace: "no-jiti" }, () => ({
      contents: `export function createJiti() {
        const refuse = () => { throw new Error("only .sql migrations are supported in this build"); };
        return { import: refuse };
      }`,
      loader: "js",
    }));
  },
};

export async function build({ outdir = join(appDir, "dist") } = {}) {
  const result = await esbuild.build({
    entryPoints: { server: join(appDir, "src/server.ts"), migrate: join(appDir, "src/migrate.ts") },
    outdir,
    bundle: true,
    platform: "node",
    target: "node20",
    // CommonJS, so `dist/*.js` runs with or without a package.json next to it. The sources use `import.meta.url`
    // (to find ../migrations); in CommonJS it is rebuilt from __filename.
    format: "cjs",
    define: { "import.meta.url": "__import_meta_url" },
    banner: { js: 'const __import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    // pg tries `require("pg-native")` only when asked to; it is not installed.
    external: ["pg-native"],
    plugins: [noJiti],
    minify: true,
    sourcemap: false,
    legalComments: "linked",
    metafile: true,
    logLevel: "warning",
  });
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const outdir = process.argv[2] === undefined ? undefined : resolve(process.argv[2]);
  const { metafile } = await build({ outdir });
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (file.endsWith(".js")) console.log(`${file}  ${(output.bytes / 1024).toFixed(0)} KiB`);
  }
}

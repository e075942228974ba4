// Bundles the app into one file, so the image needs no node_modules at all:
//   dist/app.js      the server and the migration runner, each evaluated only when its entry point asks for it
//   dist/server.js   `node dist/server.js`: require("./app.js").server()
//   dist/migrate.js  `node dist/migrate.js`: require("./app.js").migrate() (finds ../migrations from its own file)
// One bundle rather than two: zod, yaml, pg and pino, which both entry points use, are in the image once.
// Usage: `node build.mjs [outdir]` (default app/dist). `node build.mjs <outdir> <entry.ts>...` bundles other entry
// points with the same settings, one file each (the benchmark's bare baselines). Also importable: `build({ outdir })`.
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const appDir = dirname(fileURLToPath(import.meta.url));

/**
 * Packages that the bundled code references but never runs, replaced by a stub that throws if it ever is:
 * - jiti: node-pg-migrate creates a jiti instance when it loads, to import JS/TS migrations; ours are SQL only, read
 *   by its SQL loader. jiti is 1.7 MB with its Babel, and would create a cache folder at start (read-only here).
 * - glob: node-pg-migrate lists migrations with it only under `useGlob` (dist/bundle/index.js, getMigrationFilePaths),
 *   which we don't set.
 * - @fastify/ajv-compiler, @fastify/fast-json-stringify-compiler: Fastify builds its default JSON-schema validator
 *   and serializer factories at start (lib/schema-controller.js, buildSchemaController) but calls them only for a
 *   route that declares a schema. No route here declares one (each checks its input in its handler), so ajv and
 *   fast-json-stringify never run.
 * - light-my-request: loaded by `app.inject()` only (fastify.js, inject), which the server never calls; tests inject
 *   into the app built from the sources, not into this bundle.
 */
const NEVER_RUN = {
  jiti: `export function createJiti() {
    const refuse = () => { throw new Error("only .sql migrations are supported in this build"); };
    return { import: refuse };
  }`,
  glob: `export function glob() { throw new Error("glob patterns for migrations are not supported in this build"); }`,
  "@fastify/ajv-compiler": `module.exports = () => () => {
    throw new Error("this build has no ajv: JSON-schema validation is not supported");
  };`,
  "@fastify/fast-json-stringify-compiler": `module.exports = () => () => {
    throw new Error("this build has no fast-json-stringify: response schemas are not supported");
  };`,
  "light-my-request": `module.exports = () => { throw new Error("inject() is not available in the bundled server"); };`,
};
const neverRun = {
  name: "never-run",
  setup(build) {
    const filter = new RegExp(`^(${Object.keys(NEVER_RUN).join("|")})$`);
    build.onResolve({ filter }, ({ path }) => ({ path, namespace: "never-run" }));
    build.onLoad({ filter: /.*/, namespace: "never-run" }, ({ path }) => ({ contents: NEVER_RUN[path], loader: "js" }));
  },
};

/**
 * Fastify's lib/server.js requires node:https and node:http2 when it loads (fastify 5, lib/server.js, top of file),
 * and calls them only for a server created with the `https` or `http2` option, which this app never sets. Neither
 * module is in Node's startup snapshot, so loading them (and node:tls behind https) is a good part of the server's
 * start: here they are required on first use instead.
 */
const LAZY_BUILTINS = ["node:https", "node:http2"];
const lazyBuiltins = {
  name: "lazy-builtins",
  setup(build) {
    build.onLoad({ filter: /[\\/]fastify[\\/]lib[\\/]server\.js$/ }, async ({ path }) => {
      let contents = await readFile(path, "utf8");
      for (const id of LAZY_BUILTINS) {
        const eager = `require('${id}')`;
        if (!contents.includes(eager))
          throw new Error(`lazy-builtins: ${path} no longer has ${eager}; update build.mjs`);
        contents = contents.replace(eager, `__lazyBuiltin('${id}')`);
      }
      const helper = `const __lazyBuiltin = (id) => { let m; return new Proxy({}, { get: (_, key) => (m ??= require(id))[key] }); };`;
      return { contents: `${helper}\n${contents}`, loader: "js" };
    });
  },
};

/**
 * `import { z } from "zod"` takes zod's `z` namespace object whole, with every locale's error messages (about
 * 360 KB); `import * as z from "zod"` lets esbuild keep only what is used. Fail the build rather than grow the image.
 */
function checkZodImports(metafile) {
  const locales = Object.values(metafile.outputs)
    .flatMap((output) => Object.entries(output.inputs))
    .filter(([path, { bytesInOutput }]) => bytesInOutput > 0 && /zod\/v4\/locales\/(?!(en|index)\.js$)/.test(path));
  if (locales.length > 0) {
    throw new Error(
      `the bundle holds ${locales.length} zod locales: import zod as \`import * as z from "zod"\`, not \`import { z }\``,
    );
  }
}

/** esbuild with this app's settings: one CommonJS file per entry point, for Node, minified, no node_modules. */
export async function bundle({ entryPoints, stdin, outfile, outdir }) {
  const result = await esbuild.build({
    ...(stdin === undefined ? { entryPoints } : { stdin }),
    ...(outfile === undefined ? { outdir } : { outfile }),
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
    plugins: [neverRun, lazyBuiltins],
    minify: true,
    sourcemap: false,
    legalComments: "linked",
    metafile: true,
    logLevel: "warning",
  });
  checkZodImports(result.metafile);
  return result;
}

export async function build({ outdir = join(appDir, "dist") } = {}) {
  // `require`, not `import`: esbuild turns a required ES module into a function that runs it on first call, so
  // `node dist/server.js` never evaluates the migration runner, and the other way round.
  const result = await bundle({
    stdin: {
      contents: `module.exports = {
        server: () => require("./server.ts"),
        migrate: () => require("./migrate.ts"),
      };`,
      resolveDir: join(appDir, "src"),
      sourcefile: "app-entry.js",
      loader: "js",
    },
    outfile: join(outdir, "app.js"),
  });
  for (const entry of ["server", "migrate"]) {
    await writeFile(join(outdir, `${entry}.js`), `"use strict";\nrequire("./app.js").${entry}();\n`);
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [out, ...entryPoints] = process.argv.slice(2);
  const outdir = out === undefined ? undefined : resolve(out);
  const { metafile } =
    entryPoints.length === 0
      ? await build({ outdir })
      : await bundle({ entryPoints: entryPoints.map((e) => resolve(e)), outdir });
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (file.endsWith(".js")) console.log(`${file}  ${(output.bytes / 1024).toFixed(0)} KiB`);
  }
}

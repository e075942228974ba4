// `npm run bench:image`: the image's figures next to their goals, measured on the local Docker engine. Prints figures
// only; nothing here passes or fails. Uses the stand-in base images when STANDIN_* are set (.ci/run).
//
// What it does, in one run: copies the build context to a temporary folder (so the one-line edit never touches the
// checkout), builds our image cold (no layer cache and an npm download cache of its own, empty; base images are local
// and reused), builds again without layer cache but with that npm cache warm, edits one line of app/src/server.ts
// and rebuilds (three such edits, median), builds the naive single-stage anchor (bench/naive.Dockerfile) cold, lists
// every file in the layers our Dockerfile adds to the runtime base, then times `docker run` → first 200 from the
// health check, alternating with the floor of that figure on this engine: the runtime base image running a bare Node
// HTTP server (`docker run` of the same base, no app), and against a real Postgres on 127.0.0.1.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { databaseEnv } from "../infra/env";
import { HEALTH_CHECK_PATH, imageBuildSettings, MIGRATE_ARGV } from "../infra/image";
import {
  baseImageBuildArgs,
  buildImage,
  cacheMountIds,
  docker,
  dockerRaw,
  officialBaseImage,
  pruneCacheMountsSince,
  removeQuietly,
  withOwnNpmCache,
} from "../tests/support/docker-cli";
import { freePort, startPostgres, type TestPostgres } from "../tests/support/postgres";

const repoRoot = resolve(__dirname, "..");
const NODE_BINARY_BYTES = 126.6e6;
const MB = 1e6;
const STARTS = 7;
const execFileAsync = promisify(execFile);
const REBUILDS = 3;

const mb = (bytes: number) => `${(bytes / MB).toFixed(2)} MB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const medianBy = <T>(items: readonly T[], by: (item: T) => number): T | undefined =>
  [...items].sort((a, b) => by(a) - by(b))[Math.floor(items.length / 2)];
const median = (values: readonly number[]) => medianBy(values, (v) => v) ?? Number.NaN;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

/** The build context our Dockerfile and the naive one need, copied so that edits stay out of the checkout. */
async function copyContext(to: string): Promise<void> {
  for (const path of [
    "Dockerfile",
    ".dockerignore",
    "app/package.json",
    "app/package-lock.json",
    "app/build.mjs",
    "app/src",
    "app/migrations",
    "configuration",
    "bench/naive.Dockerfile",
  ]) {
    await cp(join(repoRoot, path), join(to, path), { recursive: true });
  }
}

/** Lines of a plain-progress build log that belong to the step running `npm ci`: its header and its CACHED mark. */
function dependencyStepLines(log: string): string[] {
  const header = log.split("\n").find((line) => /^#\d+ \[dependencies[^\]]*\] RUN .*npm ci/.test(line));
  if (header === undefined) return ["(no `npm ci` step in the log)"];
  const step = header.split(" ")[0] ?? "";
  const short = header.length > 110 ? `${header.slice(0, 60)} … ${header.slice(-40)}` : header;
  return [short, ...log.split("\n").filter((line) => line.startsWith(`${step} `) && line !== header)];
}

async function ensurePulled(ref: string): Promise<void> {
  const present = await docker(["image", "inspect", "--format", "{{.Id}}", ref]).then(
    () => true,
    () => false,
  );
  if (!present) await docker(["pull", ref]);
}

async function imageSize(ref: string): Promise<number> {
  return Number(await docker(["image", "inspect", "--format", "{{.Size}}", ref]));
}

async function layerCount(ref: string): Promise<number> {
  return (JSON.parse(await docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", ref])) as string[])
    .length;
}

/** Compressed sizes of the layers above the base, as a registry stores them (needs REGISTRY, e.g. 127.0.0.1:5000). */
async function compressedAddedBytes(image: string, baseLayers: number): Promise<number | undefined> {
  const registry = process.env.REGISTRY;
  if (registry === undefined) return undefined;
  const tag = image.split(":")[1] ?? "bench";
  const pushed = `${registry}/newsletter-bench:${tag}`;
  await docker(["tag", image, pushed]);
  try {
    await docker(["push", pushed]);
    const response = await fetch(`http://${registry}/v2/newsletter-bench/manifests/${tag}`, {
      headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
    });
    const manifest = (await response.json()) as { layers: Array<{ size: number }> };
    return manifest.layers.slice(baseLayers).reduce((sum, layer) => sum + layer.size, 0);
  } finally {
    await removeQuietly("image", [pushed]);
  }
}

/**
 * Every file in the layers an image adds above `baseLayers`, with its size: `docker save` writes each layer as a tar
 * (manifest.json names them in order), and `tar -tv` lists it.
 */
async function addedFiles(image: string, baseLayers: number, work: string): Promise<Array<[number, string]>> {
  const saved = join(work, "image.tar");
  await docker(["save", "-o", saved, image]);
  const manifest = JSON.parse((await execFileAsync("tar", ["-xOf", saved, "manifest.json"])).stdout) as Array<{
    Layers: string[];
  }>;
  const files: Array<[number, string]> = [];
  for (const layer of manifest[0]?.Layers.slice(baseLayers) ?? []) {
    await execFileAsync("tar", ["-xf", saved, "-C", work, layer]);
    const { stdout } = await execFileAsync("tar", ["-tvf", join(work, layer)]);
    for (const line of stdout.split("\n")) {
      // -rw-r--r-- 0/0  707168 2026-12-01 21:24 app/dist/app.js
      const match = /^-\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.+)$/.exec(line);
      if (match) files.push([Number(match[1]), match[2] ?? ""]);
    }
  }
  await rm(saved);
  return files.sort((a, b) => b[0] - a[0]);
}

/** Milliseconds from `docker run` to the first 200 from the health check. */
async function timeToFirst200(
  image: string,
  env: Record<string, string>,
  port: number,
  command: readonly string[] = [],
): Promise<number> {
  const flags = Object.keys(env).flatMap((name) => ["-e", name]);
  const started = performance.now();
  const run = dockerRaw(["run", "-d", "--network", "host", ...flags, image, ...command], { env });
  let ms = Number.NaN;
  const deadline = started + 120_000;
  while (performance.now() < deadline) {
    const status = await fetch(`http://127.0.0.1:${port}${HEALTH_CHECK_PATH}`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) {
      ms = performance.now() - started;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const { stdout } = await run;
  await removeQuietly("container", [stdout.trim()]);
  return ms;
}

async function main(): Promise<void> {
  const id = randomBytes(3).toString("hex");
  const ours = `newsletter-bench:${id}`;
  const naive = `newsletter-bench:${id}-naive`;
  const context = await mkdtemp(join(tmpdir(), "newsletter-bench-"));
  const settings = imageBuildSettings({ buildArgs: baseImageBuildArgs() });
  const dockerfile = join(context, "Dockerfile");
  const common = { context, dockerfile, buildArgs: settings.args, target: settings.target, tag: ours };
  let pg: TestPostgres | undefined;
  const mountsBefore = await cacheMountIds();
  try {
    await copyContext(context);
    // A cache mount of this run's own, so "cold" also means an empty npm download cache. Same layers otherwise.
    const source = await readFile(dockerfile, "utf8");
    await writeFile(dockerfile, withOwnNpmCache(source, `bench-${id}`));

    console.log(`Building (context copied to ${context}) …`);
    const cold = await timed(() => buildImage({ ...common, noCache: true }));
    const warmNpm = await timed(() => buildImage({ ...common, noCache: true }));
    // The one-line edit, three times (each a different line, so each rebuild has real work); the median is reported.
    const rebuilds: Array<{ ms: number; result: string }> = [];
    for (let edit = 0; edit < REBUILDS; edit++) {
      await appendFile(
        join(context, "app/src/server.ts"),
        `\n(globalThis as Record<string, unknown>).benchEdit${edit} = "${id}";\n`,
      );
      rebuilds.push(await timed(() => buildImage(common)));
    }
    const rebuild = medianBy(rebuilds, (r) => r.ms) ?? { ms: Number.NaN, result: "" };
    const naiveCold = await timed(() =>
      buildImage({
        context,
        dockerfile: join(context, "bench/naive.Dockerfile"),
        tag: naive,
        noCache: true,
        buildArgs: settings.args.BUILD_IMAGE === undefined ? {} : { BUILD_IMAGE: settings.args.BUILD_IMAGE },
      }),
    );

    const runtimeBase = settings.args.RUNTIME_IMAGE ?? officialBaseImage(source, "runtime");
    // BuildKit keeps the base images it pulls to itself: `docker image inspect` sees them only once pulled.
    await ensurePulled(runtimeBase);
    const [size, baseSize, naiveSize, baseLayers] = await Promise.all([
      imageSize(ours),
      imageSize(runtimeBase),
      imageSize(naive),
      layerCount(runtimeBase),
    ]);
    const added = size - baseSize;
    const compressed = await compressedAddedBytes(ours, baseLayers);
    // `docker history` lists the newest step first: the rows above the base's own rows are this Dockerfile's.
    const historyOf = async (ref: string) =>
      (await docker(["history", "--human=false", "--format", "{{.Size}}\t{{.CreatedBy}}", ref])).split("\n");
    const [ourHistory, baseHistory] = await Promise.all([historyOf(ours), historyOf(runtimeBase)]);
    const ourLayers = ourHistory
      .slice(0, ourHistory.length - baseHistory.length)
      .map((line) => line.split("\t"))
      .filter(([bytes]) => Number(bytes) > 0);

    console.log("Starting Postgres and timing `docker run` → first 200 …");
    pg = await startPostgres();
    await pg.createDatabase("bench");
    const db = pg;
    const envFor = (port: number): Record<string, string> => ({
      ...Object.fromEntries(
        databaseEnv("production", {
          host: db.host,
          port: String(db.port),
          username: db.user,
          password: db.password,
          databaseName: "bench",
        }).map((v) => [v.name, String(v.value)]),
      ),
      APP_DATABASE__REQUIRE_SSL: "false",
      APP_APPLICATION__PORT: String(port),
    });
    const migrateEnv = envFor(await freePort());
    const [executable, ...args] = MIGRATE_ARGV;
    await dockerRaw(
      [
        "run",
        "--rm",
        "--network",
        "host",
        ...Object.keys(migrateEnv).flatMap((n) => ["-e", n]),
        "--entrypoint",
        executable,
        ours,
        ...args,
      ],
      { env: migrateEnv },
    );
    const startsOurs: number[] = [];
    const startsFloor: number[] = [];
    const startsNaive: number[] = [];
    // The floor: the runtime base's own Node answering 200 at once, started the same way. Alternated with ours.
    const floor = (port: number) => [
      "-e",
      `require("node:http").createServer((q, s) => s.end()).listen(${port}, "0.0.0.0")`,
    ];
    for (let i = 0; i < STARTS; i++) {
      const [portA, portB] = [await freePort(), await freePort()];
      if (i % 2 === 0) {
        startsOurs.push(await timeToFirst200(ours, envFor(portA), portA));
        startsFloor.push(await timeToFirst200(runtimeBase, {}, portB, floor(portB)));
      } else {
        startsFloor.push(await timeToFirst200(runtimeBase, {}, portB, floor(portB)));
        startsOurs.push(await timeToFirst200(ours, envFor(portA), portA));
      }
    }
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      startsNaive.push(await timeToFirst200(naive, envFor(port), port));
    }

    const files = await addedFiles(ours, baseLayers, context);
    const ratio = rebuild.ms / cold.ms;
    const goal = (ok: boolean) => (ok ? "meets goal" : "MISSES goal");
    console.log(`
Image size (uncompressed, as \`docker image inspect\` reports it)
  runtime image ${ours}         ${mb(size)}
  runtime base ${runtimeBase}   ${mb(baseSize)}  = ${(baseSize / NODE_BINARY_BYTES).toFixed(3)} × the Node binary (126.6 MB); goal ≤ 1.15 ×: ${goal(baseSize <= 1.15 * NODE_BINARY_BYTES)}
  added by our Dockerfile       ${mb(added)}  (goal ≤ 1 MB: ${goal(added <= 1 * MB)})${compressed === undefined ? "" : `; compressed in the registry ${mb(compressed)}`}
    by layer:
${ourLayers.map(([bytes, by]) => `      ${mb(Number(bytes)).padStart(9)}  ${(by ?? "").replace(/\s+/g, " ").slice(0, 90)}`).join("\n")}
    by file:
${files.map(([bytes, path]) => `      ${(bytes / 1024).toFixed(1).padStart(8)} KiB  /${path}`).join("\n")}
  naive single stage            ${mb(naiveSize)}  → ours is ${(naiveSize / size).toFixed(1)} × smaller (${((100 * size) / naiveSize).toFixed(0)} % of naive)

Build time (base images already local)
  ours, cold (no layer cache, empty npm cache)          ${sec(cold.ms)}
  ours, no layer cache, npm download cache warm         ${sec(warmNpm.ms)}
  ours, rebuild after a one-line edit of server.ts      ${sec(rebuild.ms)} (median of ${rebuilds.map((r) => sec(r.ms)).join(", ")}) = ${(100 * ratio).toFixed(1)} % of cold (goal ≤ 15 %: ${goal(ratio <= 0.15)}); ${((100 * rebuild.ms) / warmNpm.ms).toFixed(1)} % of the warm-npm build
  naive, cold                                           ${sec(naiveCold.ms)}
  dependency step in the rebuild's log:
${dependencyStepLines(rebuild.result)
  .map((line) => `      ${line}`)
  .join("\n")}

docker run → first 200 from ${HEALTH_CHECK_PATH}
  ours  (${STARTS} runs)  median ${median(startsOurs).toFixed(0)} ms, min ${Math.min(...startsOurs).toFixed(0)}, max ${Math.max(...startsOurs).toFixed(0)} (goal ≤ 200 ms: ${goal(median(startsOurs) <= 200)})
  floor (${STARTS} runs)  median ${median(startsFloor).toFixed(0)} ms, min ${Math.min(...startsFloor).toFixed(0)}, max ${Math.max(...startsFloor).toFixed(0)}: the base image's Node answering at once, started the same way
  what the app adds      ${(median(startsOurs) - median(startsFloor)).toFixed(0)} ms (median of ours − median of the floor)
  naive (3 runs)  median ${median(startsNaive).toFixed(0)} ms, min ${Math.min(...startsNaive).toFixed(0)}, max ${Math.max(...startsNaive).toFixed(0)}
`);
  } finally {
    await removeQuietly("image", [ours, naive]);
    // The npm cache mount this run created (IDs that did not exist before it), so runs don't pile up.
    await pruneCacheMountsSince(mountsBefore);
    await pg?.destroy();
    await rm(context, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

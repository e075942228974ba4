// The image built from the repository's Dockerfile, on a real Docker engine: it migrates and serves against a real
// Postgres, holds only what runs, leaks no build secret, stops cleanly and survives a registry round trip.
// One build per run of this file (beforeAll), without the layer cache, so the build secrets are really mounted.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseEnv } from "../../infra/env";
import {
  HEALTH_CHECK_PATH,
  imageBuildSettings,
  MIGRATE_ARGV,
  MIGRATE_COMMAND,
  SERVER_ARGV,
  SERVICE_PORT,
  VERSION_VARIABLE,
} from "../../infra/image";
import {
  baseImageBuildArgs,
  buildImage,
  cacheMountIds,
  describeWithDocker,
  docker,
  dockerRaw,
  officialBaseImage,
  pruneCacheMountsSince,
  removeQuietly,
  withOwnNpmCache,
} from "../support/docker";
import { waitFor200, waitForFreePort } from "../support/ports";
import { startPostgres, type TestPostgres } from "../support/postgres";

const execFileAsync = promisify(execFile);

describeWithDocker("the container image (Dockerfile, runtime target)", () => {
  const id = randomBytes(4).toString("hex");
  // The version a deployment tells the app (APP_APPLICATION__VERSION): the hash of the image's inputs.
  const version = createHash("sha256").update(id).digest("hex").slice(0, 32);
  const image = `newsletter-test:${id}`;
  const buildStageImage = `newsletter-test:${id}-build-stage`;
  // Dummy secrets: each is a marker that must not appear in any layer, the history, the environment or the build log.
  const npmToken = `npm_${randomBytes(18).toString("hex")}`;
  const caMarker = `ca-marker-${randomBytes(12).toString("hex")}`;
  const proxyPassword = `proxy-${randomBytes(12).toString("hex")}`;
  const secrets = [npmToken, caMarker, proxyPassword];

  const containers: string[] = [];
  let work = "";
  let pg: TestPostgres;
  let buildLog = "";

  /** The APP_* variables App Platform would inject (infra/env.ts), for one database on the test server. */
  function appEnv(databaseName: string): Record<string, string> {
    const vars = databaseEnv("production", {
      host: pg.host,
      port: String(pg.port),
      username: pg.user,
      password: pg.password,
      databaseName,
    });
    return {
      ...Object.fromEntries(vars.map((v) => [v.name, String(v.value)])),
      // The embedded test server has no TLS; production.yaml requires it against the managed database.
      APP_DATABASE__REQUIRE_SSL: "false",
    };
  }

  /** `docker run` arguments that pass each variable by name; the values travel in the client's environment. */
  function envFlags(env: Record<string, string>): string[] {
    return Object.keys(env).flatMap((name) => ["-e", name]);
  }

  async function tableExists(databaseName: string, table: string): Promise<boolean> {
    const client = await pg.client(databaseName);
    try {
      const { rows } = await client.query<{ found: string | null }>("SELECT to_regclass($1) AS found", [table]);
      return rows[0]?.found != null;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "newsletter-image-test-"));
    pg = await startPostgres();

    // An .npmrc as a private mirror would need: a token (for a registry this build never calls) and a log level that
    // makes npm's HTTP requests visible, which shows the secret file was read. The CA "secret" is this machine's
    // bundle (the TLS-intercepting proxy here needs it) with a marker line; PEM readers skip text between certificates.
    const npmrc = join(work, "npmrc");
    await writeFile(npmrc, `//npm.mirror.invalid/:_authToken=${npmToken}\nloglevel=http\n`, { mode: 0o600 });
    const ca = join(work, "ca.pem");
    const hostBundle = [process.env.NODE_EXTRA_CA_CERTS, "/etc/ssl/certs/ca-certificates.crt"].find(
      (path) => path !== undefined && existsSync(path),
    );
    const bundle = hostBundle === undefined ? "" : await readFile(hostBundle, "utf8");
    await writeFile(ca, `# ${caMarker}\n${bundle}`, { mode: 0o600 });

    const settings = imageBuildSettings({
      // FTP_PROXY is one of Docker's predefined proxy args (left out of the history); nothing here uses FTP.
      buildArgs: { ...baseImageBuildArgs(), FTP_PROXY: `http://builder:${proxyPassword}@127.0.0.1:9` },
    });
    const common = {
      context: settings.context,
      dockerfile: settings.dockerfile,
      platform: settings.platform,
      buildArgs: settings.args,
    };
    buildLog = await buildImage({
      ...common,
      tag: image,
      target: settings.target,
      secrets: { npmrc, ca },
      noCache: true,
    });
    // The build stage too (from the cache just filled): a secret copied instead of mounted would sit in its layers.
    await buildImage({ ...common, tag: buildStageImage, target: "build" });
  });

  afterAll(async () => {
    await removeQuietly("container", containers);
    await removeQuietly("image", [image, buildStageImage]);
    await pg?.destroy();
    if (work !== "") await rm(work, { recursive: true, force: true });
  });

  describe("metadata", () => {
    it("carries no version or commit: no version label, no APP_APPLICATION__VERSION (the deployment sets it)", async () => {
      const labels = JSON.parse(await docker(["image", "inspect", "--format", "{{json .Config.Labels}}", image]));
      expect(Object.keys(labels).sort()).toEqual([
        "org.opencontainers.image.description",
        "org.opencontainers.image.title",
      ]);
      const env: string[] = JSON.parse(await docker(["image", "inspect", "--format", "{{json .Config.Env}}", image]));
      expect(env.filter((e) => e.startsWith("APP_APPLICATION__VERSION="))).toEqual([]);
    });

    it("sets the production environment, port 8000, no entrypoint and the server's whole argv as CMD, in /app", async () => {
      const config = JSON.parse(await docker(["image", "inspect", "--format", "{{json .Config}}", image]));
      expect(config.Env).toEqual(expect.arrayContaining(["APP_ENVIRONMENT=production", "NODE_ENV=production"]));
      expect(Object.keys(config.ExposedPorts)).toEqual([`${SERVICE_PORT}/tcp`]);
      expect(config.WorkingDir).toBe("/app");
      // null, not [""]: an empty string would be an argv[0] that App Platform's starter can't find (steamcmd/api#24).
      expect(config.Entrypoint).toBeNull();
      expect(config.Cmd).toEqual([...SERVER_ARGV]);
    });

    it("runs as a non-root user", async () => {
      const user = await docker(["image", "inspect", "--format", "{{.Config.User}}", image]);
      expect(user).toBe("65532:65532");
      const ids = await docker([
        "run",
        "--rm",
        "--network",
        "host",
        image,
        SERVER_ARGV[0],
        "-e",
        "console.log(process.getuid(), process.getgid())",
      ]);
      expect(ids).toBe("65532 65532");
    });
  });

  describe("filesystem", () => {
    let paths: string[] = [];

    beforeAll(async () => {
      // No shell in the image to list files with: export the container's filesystem and read the tar's index.
      const cid = await docker(["create", image]);
      containers.push(cid);
      const tarFile = join(work, "rootfs.tar");
      await docker(["export", "-o", tarFile, cid]);
      const { stdout } = await execFileAsync("tar", ["-tf", tarFile], { maxBuffer: 64 * 1024 * 1024 });
      paths = stdout
        .split("\n")
        .map((p) => p.replace(/^\.?\//, ""))
        .filter((p) => p !== "");
      await rm(tarFile);
    });

    it("holds under /app only the bundle, its two entry points and license notices, the configuration and the SQL migrations", () => {
      const appFiles = paths.filter((p) => p.startsWith("app/") && !p.endsWith("/"));
      expect(appFiles).toEqual(
        expect.arrayContaining(["app/dist/app.js", "app/dist/server.js", "app/dist/migrate.js"]),
      );
      expect(appFiles).toEqual(
        expect.arrayContaining(["app/configuration/base.yaml", "app/configuration/production.yaml"]),
      );
      expect(appFiles.some((p) => /^app\/migrations\/[^/]+\.sql$/.test(p))).toBe(true);
      const unexpected = appFiles.filter(
        (p) =>
          !/^app\/dist\/(app|server|migrate)\.js(\.LEGAL\.txt)?$/.test(p) &&
          !/^app\/configuration\/[^/]+\.yaml$/.test(p) &&
          !/^app\/migrations\/[^/]+\.sql$/.test(p),
      );
      expect(unexpected).toEqual([]);
    });

    it("carries no npm, no node_modules, no TypeScript, no tests, no infra/ and no repository files", () => {
      const offenders = paths.filter(
        (p) =>
          /(^|\/)(npm|npx|corepack)(\/|$)/.test(p) ||
          /(^|\/)node_modules(\/|$)/.test(p) ||
          /\.[cm]?ts$/.test(p) ||
          /(^|\/)(tests?|__tests__)\/|\.(test|spec)\.[cm]?[jt]s$/.test(p) ||
          /(^|\/)(infra|ops|bench|\.git|\.github|\.pulumi-state)(\/|$)/.test(p) ||
          /(^|\/)(\.env[^/]*|\.npmrc|package(-lock)?\.json|Pulumi[^/]*\.yaml)$/.test(p),
      );
      expect(offenders).toEqual([]);
    });

    it("adds one shell binary, /bin/sh, for platforms that wrap the run command in `sh -c`", () => {
      expect(paths).toContain("bin/sh");
    });
  });

  describe("build secrets", () => {
    it("were read during the build (npm logged its HTTP requests, as the npmrc secret asked)", () => {
      expect(buildLog).toMatch(/npm http (fetch|cache)/);
    });

    it("appear in no layer, history entry, environment variable or build log line", async () => {
      const haystacks: Array<[string, string | Buffer]> = [["build log", buildLog]];
      for (const ref of [image, buildStageImage]) {
        const saved = join(work, "saved.tar");
        await docker(["save", "-o", saved, ref]);
        // `docker save` writes each layer as an uncompressed tar, so a byte search sees every file in every layer.
        haystacks.push([`docker save ${ref}`, await readFile(saved)]);
        await rm(saved);
        haystacks.push([`history of ${ref}`, await docker(["history", "--no-trunc", ref])]);
        haystacks.push([`config of ${ref}`, await docker(["image", "inspect", ref])]);
      }
      const found = haystacks.flatMap(([where, haystack]) =>
        secrets.filter((secret) => haystack.includes(secret)).map((secret) => `${secret.slice(0, 8)}… in ${where}`),
      );
      expect(found).toEqual([]);
    });
  });

  describe("behind a TLS-intercepting proxy", () => {
    // A build image that trusts no extra CA (as node:24-bookworm-slim on a corporate laptop), a fresh npm cache (so
    // npm must reach the registry), and the host's CA bundle handed in only as the `ca` build secret.
    it("installs the dependencies with the proxy's CA given as the `ca` secret, and says why it fails without", async () => {
      const bareBase = `newsletter-test:${id}-bare-build`;
      const bareContext = join(work, "bare-base");
      await mkdir(bareContext, { recursive: true });
      await writeFile(
        join(bareContext, "Dockerfile"),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile's ${...}, for Docker to substitute.
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nENV NODE_EXTRA_CA_CERTS=\n",
      );
      const settings = imageBuildSettings({ buildArgs: baseImageBuildArgs() });
      const dockerfileSource = await readFile(settings.dockerfile, "utf8");
      const officialBuildImage = officialBaseImage(dockerfileSource, "build");
      await buildImage({
        context: bareContext,
        tag: bareBase,
        buildArgs: { BASE_IMAGE: settings.args.BUILD_IMAGE ?? officialBuildImage },
      });
      // The repository's Dockerfile with an npm cache mount of this test's own, so nothing is served from cache.
      const dockerfile = join(work, "Dockerfile.fresh-npm-cache");
      await writeFile(dockerfile, withOwnNpmCache(dockerfileSource, `test-${id}`));
      const mountsBefore = await cacheMountIds();
      const hostBundle = [process.env.NODE_EXTRA_CA_CERTS, "/etc/ssl/certs/ca-certificates.crt"].find(
        (path) => path !== undefined && existsSync(path),
      );
      if (hostBundle === undefined) throw new Error("no CA bundle on this machine to hand in as the `ca` secret");
      // npm settings through the npmrc secret: fail at the first refused certificate instead of retrying for a minute.
      const npmrc = join(work, "npmrc-no-retries");
      await writeFile(npmrc, "fetch-retries=0\n", { mode: 0o600 });
      const common = {
        context: settings.context,
        dockerfile,
        target: "dependencies",
        buildArgs: { ...settings.args, BUILD_IMAGE: bareBase },
        noCache: true,
      };
      try {
        const withoutCa = await buildImage({ ...common, tag: `${bareBase}-without-ca`, secrets: { npmrc } }).then(
          () => "succeeded",
          (error: Error) => error.message,
        );
        // Without the secret: behind an intercepting proxy (as where .ci/run runs) npm can't verify the registry's
        // certificate; on a direct connection the build needs no secret and succeeds.
        // .ci/run sets EXPECT_TLS_INTERCEPTION where it knows a proxy intercepts TLS: there the failure is required.
        if (process.env.EXPECT_TLS_INTERCEPTION === "1" || withoutCa !== "succeeded") {
          expect(withoutCa).toMatch(/certificate|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED/i);
        }
        console.log(
          `[proxy CA] build without the ca secret: ${withoutCa === "succeeded" ? "succeeded (no interception here)" : "failed on the certificate"}`,
        );
        await buildImage({ ...common, tag: `${bareBase}-with-ca`, secrets: { npmrc, ca: hostBundle } });
      } finally {
        await removeQuietly("image", [bareBase, `${bareBase}-without-ca`, `${bareBase}-with-ca`]);
        await pruneCacheMountsSince(mountsBefore);
      }
    }, 300_000);
  });

  describe("the migration command", () => {
    it("migrates when executed directly, as argv (run_command without a shell)", async () => {
      await pg.createDatabase("direct");
      const env = appEnv("direct");
      const [executable, ...args] = MIGRATE_ARGV;
      await dockerRaw(
        ["run", "--rm", "--network", "host", ...envFlags(env), "--entrypoint", executable, image, ...args],
        { env, timeoutMs: 120_000 },
      );
      expect(await tableExists("direct", "subscriptions")).toBe(true);
    });

    it("migrates when executed through /bin/sh -c (run_command wrapped in a shell)", async () => {
      await pg.createDatabase("through_shell");
      const env = appEnv("through_shell");
      await dockerRaw(
        ["run", "--rm", "--network", "host", ...envFlags(env), "--entrypoint", "/bin/sh", image, "-c", MIGRATE_COMMAND],
        { env, timeoutMs: 120_000 },
      );
      expect(await tableExists("through_shell", "subscriptions")).toBe(true);
    });
  });

  describe("the server", () => {
    let cid = "";
    let baseUrl = "";

    beforeAll(async () => {
      await pg.createDatabase("serving");
      // Only what App Platform injects: the server must listen on the image's own port, SERVICE_PORT. Host
      // networking shares the machine's ports, so wait for the port to be free rather than move to another one.
      const env = { ...appEnv("serving"), [VERSION_VARIABLE]: version };
      await dockerRaw(
        ["run", "--rm", "--network", "host", ...envFlags(env), "--entrypoint", "/bin/sh", image, "-c", MIGRATE_COMMAND],
        { env, timeoutMs: 120_000 },
      );
      await waitForFreePort(SERVICE_PORT, 60_000);
      const { stdout } = await dockerRaw(["run", "-d", "--network", "host", ...envFlags(env), image], { env });
      cid = stdout.trim();
      containers.push(cid);
      baseUrl = `http://127.0.0.1:${SERVICE_PORT}`;
      await waitFor200(`${baseUrl}${HEALTH_CHECK_PATH}`, {
        timeoutMs: 30_000,
        stillRunning: async () => (await docker(["inspect", "--format", "{{.State.Running}}", cid])) === "true",
        describeFailure: async () => {
          const logs = await dockerRaw(["logs", cid]).catch(() => ({ stdout: "", stderr: "" }));
          return `server log:\n${logs.stdout}${logs.stderr}`;
        },
      });
    });

    it(`answers GET ${HEALTH_CHECK_PATH} with 200`, async () => {
      const response = await fetch(`${baseUrl}${HEALTH_CHECK_PATH}`);
      expect(response.status).toBe(200);
    });

    it("answers POST /subscriptions with 200 and stores the row in Postgres", async () => {
      const response = await fetch(`${baseUrl}/subscriptions`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ name: "le guin", email: "ursula_le_guin@gmail.com" }).toString(),
      });
      expect(response.status).toBe(200);
      const client = await pg.client("serving");
      try {
        const { rows } = await client.query("SELECT email, name FROM subscriptions");
        expect(rows).toEqual([{ email: "ursula_le_guin@gmail.com", name: "le guin" }]);
      } finally {
        await client.end();
      }
    });

    it("logs the version the deployment gave it in its first line", async () => {
      // The server writes its lines in batches and flushes them once it listens (app/src/serve.ts): give the write
      // that flush started a moment to land.
      let firstLine = "";
      for (const deadline = Date.now() + 2_000; firstLine === "" && Date.now() < deadline; ) {
        const { stdout, stderr } = await dockerRaw(["logs", cid]);
        firstLine = `${stdout}${stderr}`.split("\n")[0] ?? "";
        if (firstLine === "") await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(firstLine).toContain(version);
    });

    it("ends on docker stop within the grace period, with exit code 0", async () => {
      const graceSeconds = 20;
      const started = Date.now();
      await docker(["stop", "-t", String(graceSeconds), cid], { timeoutMs: (graceSeconds + 30) * 1000 });
      const elapsedMs = Date.now() - started;
      const exitCode = await docker(["inspect", "--format", "{{.State.ExitCode}}", cid]);
      expect(exitCode).toBe("0");
      expect(elapsedMs).toBeLessThan(graceSeconds * 1000);
    });
  });

  describe("a registry round trip", () => {
    const registry = process.env.REGISTRY;
    const required = process.env.REQUIRE_DOCKER === "1";
    const name = "pushes to the registry, which holds every byte, and pulls the same image back by digest";
    const roundTrip = registry === undefined && !required ? it.skip : it;

    roundTrip(registry === undefined && !required ? `${name} [skipped: REGISTRY is not set]` : name, async () => {
      if (registry === undefined) throw new Error("REGISTRY is not set (.ci/run starts one on 127.0.0.1:5000)");
      const repository = `${registry}/newsletter-test`;
      const pushed = `${repository}:${id}`;
      await docker(["tag", image, pushed]);
      const builtId = await docker(["image", "inspect", "--format", "{{.Id}}", image]);
      await docker(["push", pushed]);
      const repoDigests: string[] = JSON.parse(
        await docker(["image", "inspect", "--format", "{{json .RepoDigests}}", pushed]),
      );
      const reference = repoDigests.find((d) => d.startsWith(`${repository}@`));
      expect(reference).toMatch(/@sha256:[0-9a-f]{64}$/);
      const digest = (reference ?? "").split("@")[1] ?? "";

      // The registry's own view: the manifest it serves for the tag hashes to the digest Docker reported...
      const api = `http://${registry}/v2/newsletter-test`;
      const manifest = await fetch(`${api}/manifests/${id}`, {
        headers: {
          accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
        },
      });
      expect(manifest.status).toBe(200);
      const body = Buffer.from(await manifest.arrayBuffer());
      expect(`sha256:${createHash("sha256").update(body).digest("hex")}`).toBe(digest);
      expect(manifest.headers.get("docker-content-digest")).toBe(digest);

      // ...and every blob it names (config and layers) is there, byte for byte. A pull on this engine, which still
      // has the layers, would fetch only the manifest; this reads what a fresh machine (App Platform) would pull.
      const { config, layers } = JSON.parse(body.toString("utf8")) as {
        config: { digest: string };
        layers: { digest: string; size: number }[];
      };
      expect(layers.length).toBeGreaterThan(0);
      for (const blob of [config, ...layers]) {
        const response = await fetch(`${api}/blobs/${blob.digest}`);
        expect(response.status).toBe(200);
        const bytes = Buffer.from(await response.arrayBuffer());
        expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).toBe(blob.digest);
      }

      // Forget the pushed name, pull by digest, and get the very same image.
      await docker(["rmi", pushed]);
      const byDigest = `${repository}@${digest}`;
      try {
        await docker(["pull", byDigest]);
        expect(await docker(["image", "inspect", "--format", "{{.Id}}", byDigest])).toBe(builtId);
      } finally {
        await removeQuietly("image", [byDigest]);
      }
    });
  });
});

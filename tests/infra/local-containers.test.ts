// The local stack's containers, run for real: the image and container specs that `pulumi up --stack local` hands the
// Docker provider (recorded under Pulumi mocks, in host network mode), run in the provider's order on the real engine:
// build, Postgres (healthy), migrations (exit 0), app (healthy by its own Docker health check). Then /health_check
// and a subscription end to end. Only the Pulumi CLI and the provider's own Go code are left out.
//
// Each container goes to the Engine API as the provider sends it (ContainerCreate with an exec-form Healthcheck, which
// `docker run --health-cmd` can't express), translated field by field; an input the translation doesn't know fails
// the test, so a new field in the spec can't be silently skipped. Names get a per-run suffix, so a developer's own
// local stack (and its data volume) is never touched.
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import * as path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  buildFromProgramSettings,
  buildImage,
  describeWithDocker,
  docker,
  type ProgramBuildSettings,
} from "../support/docker";
import { freePort } from "../support/postgres";
import { cliConfig, type ProgramRun, type RecordedResource, runProgram } from "./support/pulumi-program";

const CONTAINER = "docker:index/container:Container";
const STANDIN_DIR = path.join(__dirname, "local-postgres-standin");
/** Built from Debian's postgresql-15 where no image can be pulled; kept between runs like the other stand-ins. */
const STANDIN_TAG = "newsletter-test/postgres-standin:15";

/** The Engine API socket: DOCKER_HOST when it names a unix socket, else Docker's default. */
function engineSocket(): string {
  const host = process.env.DOCKER_HOST;
  if (host === undefined || host === "") return "/var/run/docker.sock";
  if (!host.startsWith("unix://")) throw new Error(`DOCKER_HOST=${host}: this test speaks to a unix socket only`);
  return host.slice("unix://".length);
}

/** One Engine API call; rejects with Docker's message on a 4xx/5xx. */
function engine(method: string, url: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath: engineSocket(),
        path: url,
        method,
        headers: payload === undefined ? {} : { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${url}: ${res.statusCode} ${text}`));
          else resolve(text === "" ? undefined : JSON.parse(text));
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** "2s" → nanoseconds, as the provider parses healthcheck durations (Go's time.ParseDuration). */
function nanoseconds(duration: unknown): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(String(duration));
  if (!match) throw new Error(`unexpected duration ${String(duration)}`);
  const unit = { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[match[2] as "ms" | "s" | "m" | "h"];
  return Number(match[1]) * unit;
}

/** Inputs the translation below applies, or that only steer the provider (attach, wait, grace periods). */
const TRANSLATED = new Set([
  "name",
  "image",
  "envs",
  "entrypoints",
  "command",
  "healthcheck",
  "networkMode",
  "ports",
  "volumes",
  "restart",
  "attach",
  "mustRun",
  "wait",
  "waitTimeout",
  "destroyGraceSeconds",
]);

interface Healthcheck {
  tests: string[];
  interval: string;
  timeout: string;
  retries: number;
  startPeriod: string;
}

/**
 * A recorded docker.Container's inputs → the Engine API's ContainerCreate body, as the provider builds it
 * (kreuzwerker/terraform-provider-docker resource_docker_container_funcs.go: Env, Entrypoint, Cmd, Healthcheck,
 * Binds from `volumes`, PortBindings, RestartPolicy, NetworkMode). `image` is the real image the mocks stood in for.
 */
function createBody(inputs: Record<string, unknown>, image: string, volumeName: (name: string) => string): unknown {
  const unknown = Object.keys(inputs).filter((key) => !TRANSLATED.has(key));
  if (unknown.length > 0) throw new Error(`no translation for the container input(s) ${unknown.join(", ")}`);
  const hc = inputs.healthcheck as Healthcheck | undefined;
  const ports = (inputs.ports ?? []) as { internal: number; external: number; ip: string }[];
  const volumes = (inputs.volumes ?? []) as { volumeName: string; containerPath: string }[];
  return {
    Image: image,
    Env: inputs.envs,
    Entrypoint: inputs.entrypoints,
    Cmd: inputs.command,
    Healthcheck: hc && {
      Test: hc.tests,
      Interval: nanoseconds(hc.interval),
      Timeout: nanoseconds(hc.timeout),
      Retries: hc.retries,
      StartPeriod: nanoseconds(hc.startPeriod),
    },
    ExposedPorts: Object.fromEntries(ports.map((p) => [`${p.internal}/tcp`, {}])),
    HostConfig: {
      NetworkMode: inputs.networkMode,
      RestartPolicy: { Name: inputs.restart ?? "no" },
      Binds: volumes.map((v) => `${volumeName(v.volumeName)}:${v.containerPath}`),
      PortBindings: Object.fromEntries(
        ports.map((p) => [`${p.internal}/tcp`, [{ HostIp: p.ip, HostPort: String(p.external) }]]),
      ),
    },
  };
}

interface ContainerState {
  Status: string;
  Running: boolean;
  ExitCode: number;
  Health?: { Status: string };
}

async function state(name: string): Promise<ContainerState> {
  return JSON.parse(await docker(["inspect", "--format", "{{json .State}}", name])) as ContainerState;
}

async function logsOf(name: string): Promise<string> {
  return docker(["logs", "--tail", "40", name]).catch((error: Error) => error.message);
}

/** The provider's `wait: true`: return once Docker reports the container healthy; fail fast if it exits. */
async function waitHealthy(name: string, timeoutSeconds: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const s = await state(name);
    if (s.Health?.Status === "healthy") return Date.now() - started;
    if (!s.Running) throw new Error(`${name} exited with ${s.ExitCode} before it was healthy:\n${await logsOf(name)}`);
    if (Date.now() - started > timeoutSeconds * 1000) {
      throw new Error(`${name} not healthy after ${timeoutSeconds} s (${s.Health?.Status}):\n${await logsOf(name)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describeWithDocker("the local stack's containers on the real Docker engine (host network mode)", () => {
  const id = randomBytes(4).toString("hex");
  const suffix = (name: string) => `${name}-test-${id}`;
  const password = randomBytes(18).toString("base64url");
  const version = randomBytes(20).toString("hex");
  const created: string[] = [];
  const volumes: string[] = [];
  let run: ProgramRun;
  let appPort = 0;
  let postgresPort = 0;
  let appImage = "";
  let appImageTag = "";
  let postgresImage = "";

  const container = (name: string): RecordedResource => {
    const found = run.resources.find((r) => r.type === CONTAINER && r.name === name);
    if (found === undefined) throw new Error(`the program recorded no container ${name}`);
    return found;
  };

  /** Create and start one recorded container, as the provider does on `pulumi up`. */
  async function start(logicalName: string, image: string): Promise<string> {
    const { inputs } = container(logicalName);
    const name = suffix(String(inputs.name));
    await engine("POST", `/containers/create?name=${encodeURIComponent(name)}`, createBody(inputs, image, suffix));
    created.push(name);
    await docker(["start", name]);
    return name;
  }

  /** A client for the stack's Postgres with the credentials its container spec gives it. */
  async function database(): Promise<pg.Client> {
    const env = Object.fromEntries(
      (container("local-postgres").inputs.envs as string[]).map((e) => [
        e.slice(0, e.indexOf("=")),
        e.slice(e.indexOf("=") + 1),
      ]),
    );
    const client = new pg.Client({
      host: "127.0.0.1",
      port: postgresPort,
      user: env.POSTGRES_USER,
      password: env.POSTGRES_PASSWORD,
      database: env.POSTGRES_DB,
    });
    await client.connect();
    return client;
  }

  beforeAll(async () => {
    appPort = await freePort();
    postgresPort = await freePort();
    // No Postgres image can be pulled where CI runs (STANDIN_BUILD_IMAGE is set there): build the stand-in.
    // Elsewhere the stack's default, the official image, is pulled.
    if (process.env.STANDIN_BUILD_IMAGE) {
      await buildImage({
        context: STANDIN_DIR,
        tag: STANDIN_TAG,
        buildArgs: { BASE_IMAGE: process.env.STANDIN_BUILD_IMAGE },
      });
    }
    run = await runProgram("local", {
      ...cliConfig("local"),
      "newsletter:appVersion": version,
      "newsletter:localPostgresPassword": password,
      "newsletter:localNetworkMode": "host",
      "newsletter:localPort": String(appPort),
      "newsletter:localPostgresPort": String(postgresPort),
      ...(process.env.STANDIN_BUILD_IMAGE ? { "newsletter:localPostgresImage": STANDIN_TAG } : {}),
    });

    const remote = run.resources.find((r) => r.type === "docker:index/remoteImage:RemoteImage");
    postgresImage = String(remote?.inputs.name);
    if (!process.env.STANDIN_BUILD_IMAGE) await docker(["pull", postgresImage]);

    // The app image, from the recorded docker.Image build settings (plus stand-in base images where needed).
    const image = run.resources.find((r) => r.type === "docker:index/image:Image");
    const build = image?.inputs.build as ProgramBuildSettings & { network?: string };
    expect(build.network).toBe("host");
    appImageTag = `${String(image?.inputs.imageName).replace(/:[^:]+$/, "")}:test-${id}`;
    await buildFromProgramSettings(build, appImageTag);
    // The provider hands containers the built image's ID (Image.repoDigest for a local image), not the tag.
    appImage = await docker(["image", "inspect", "--format", "{{.Id}}", appImageTag]);
  });

  afterAll(async () => {
    for (const name of created.reverse()) await docker(["rm", "-f", "-v", name]).catch(() => undefined);
    for (const name of volumes) await docker(["volume", "rm", "-f", name]).catch(() => undefined);
    if (appImageTag !== "") await docker(["rmi", appImageTag]).catch(() => undefined);
  });

  it("starts Postgres on its named volume, healthy by its own pg_isready check", async () => {
    const volume = run.resources.find((r) => r.type === "docker:index/volume:Volume");
    const volumeName = suffix(String(volume?.inputs.name));
    await docker(["volume", "create", volumeName]);
    volumes.push(volumeName);
    const name = await start("local-postgres", postgresImage);
    const waited = await waitHealthy(name, Number(container("local-postgres").inputs.waitTimeout));
    console.info(`[local stack] Postgres healthy after ${(waited / 1000).toFixed(1)} s`);
    const client = await database();
    try {
      const { rows } = await client.query<{ user: string; db: string }>(
        'SELECT current_user AS "user", current_database() AS db',
      );
      expect(rows).toEqual([{ user: "newsletter", db: "newsletter" }]);
    } finally {
      await client.end();
    }
  });

  it("runs the migration container to completion with exit code 0, which lets the app start", async () => {
    const name = await start("local-migrate", appImage);
    const exitCode = Number(await docker(["wait", name]));
    expect(exitCode, await logsOf(name)).toBe(0);
    const client = await database();
    try {
      const { rows } = await client.query<{ table: string | null }>("SELECT to_regclass('subscriptions') AS table");
      expect(rows[0]?.table).toBe("subscriptions");
    } finally {
      await client.end();
    }
  });

  it("starts the app, which Docker reports healthy through the exec-form node probe (no shell in the image)", async () => {
    const name = await start("local-app", appImage);
    const waited = await waitHealthy(name, Number(container("local-app").inputs.waitTimeout));
    console.info(`[local stack] app healthy after ${(waited / 1000).toFixed(1)} s`);
    const { Config, HostConfig } = JSON.parse(await docker(["inspect", name]))[0] as {
      Config: { Healthcheck: { Test: string[] } };
      HostConfig: { RestartPolicy: { Name: string }; NetworkMode: string };
    };
    expect(Config.Healthcheck.Test[0]).toBe("CMD");
    expect([HostConfig.RestartPolicy.Name, HostConfig.NetworkMode]).toEqual(["on-failure", "host"]);
  });

  it("answers /health_check and stores a subscription end to end at the stack's URL", async () => {
    const url = String(run.outputs.url);
    expect(url).toBe(`http://127.0.0.1:${appPort}`);
    expect((await fetch(`${url}/health_check`)).status).toBe(200);
    const email = `local-${id}@example.com`;
    const response = await fetch(`${url}/subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "Local Stack", email }).toString(),
    });
    expect(response.status).toBe(200);
    const client = await database();
    try {
      const { rows } = await client.query<{ name: string }>("SELECT name FROM subscriptions WHERE email = $1", [email]);
      expect(rows).toEqual([{ name: "Local Stack" }]);
    } finally {
      await client.end();
    }
  });

  it("keeps the data when Postgres is replaced: the new container opens the same volume with the same password", async () => {
    const postgres = suffix(String(container("local-postgres").inputs.name));
    // What `pulumi up` does on a replacement (deleteBeforeReplace): stop within the grace period, remove, create.
    await docker(["stop", "-t", String(container("local-postgres").inputs.destroyGraceSeconds), postgres]);
    await docker(["rm", postgres]);
    created.splice(created.indexOf(postgres), 1);
    await start("local-postgres", postgresImage);
    await waitHealthy(postgres, Number(container("local-postgres").inputs.waitTimeout));
    const client = await database();
    try {
      const { rows } = await client.query<{ count: string }>("SELECT count(*) FROM subscriptions WHERE email = $1", [
        `local-${id}@example.com`,
      ]);
      expect(rows).toEqual([{ count: "1" }]);
    } finally {
      await client.end();
    }
  });
});

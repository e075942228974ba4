// The content-addressed image against the real parts this machine has: a Docker engine and an OCI registry
// (distribution, 127.0.0.1:5000, started by .ci/run). The Pulumi program runs under mocks, from two clones at
// different paths, as the CLI runs it (in `infra/`). The mocked docker provider does what the real one would, for
// real: getRegistryImage is a HEAD of the tag's manifest with the provider's Accept headers (terraform-provider-docker
// v4.5.0, data_source_docker_registry_image.go getImageDigest, authentication_helpers.go
// setupHTTPHeadersForRegistryRequests), docker.Image is `docker build` then `docker push` (pulumi-docker
// provider/image.go, dockerBuild). Every request the registry gets passes through a recording proxy, so "pushes
// nothing" is what the registry saw, not what the harness says it did.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { contextFiles } from "../../infra/version";
import { baseImageBuildArgs, buildImage, describeWithDocker, docker, removeQuietly } from "../support/docker";
import { type Checkout, copyCheckout } from "./support/checkout";
import { cliConfig, type MockRegistry, type ProgramRun, runProgram } from "./support/pulumi-program";

const IMAGE = "docker:index/image:Image";
const ACCEPT = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

/** A registry behind a proxy on 127.0.0.1 that records `METHOD path` of every request it forwards. */
class RecordedRegistry implements MockRegistry {
  readonly requests: string[] = [];
  readonly pushed: string[] = [];
  private proxy: http.Server | undefined;
  server = "";

  constructor(private readonly upstream: string) {}

  async start(): Promise<void> {
    const [host, port] = this.upstream.split(":");
    const proxy = http.createServer((req, res) => {
      this.requests.push(`${req.method} ${req.url}`);
      const forward = http.request(
        { host, port: Number(port), method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on("error", () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    this.proxy = proxy;
    this.server = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.proxy ? this.proxy.close(() => resolve()) : resolve()));
  }

  /** `registry/repo:tag` → `[repo, tag]`. */
  private parse(name: string): [string, string] {
    const rest = name.slice(name.indexOf("/") + 1);
    const colon = rest.lastIndexOf(":");
    return [rest.slice(0, colon), rest.slice(colon + 1)];
  }

  async lookUp(name: string): Promise<string | undefined> {
    const [repository, tag] = this.parse(name);
    const response = await fetch(`http://${this.server}/v2/${repository}/manifests/${tag}`, {
      method: "HEAD",
      headers: { accept: ACCEPT },
    });
    if (response.status === 200) return response.headers.get("docker-content-digest") ?? undefined;
    if (response.status === 404) return undefined;
    throw new Error(`got bad response from registry: ${response.status} ${response.statusText}`);
  }

  async push(image: Record<string, unknown>): Promise<string> {
    const name = String(image.imageName);
    const build = image.build as { context: string; dockerfile: string; target: string; platform: string };
    const args = (image.build as { args?: Record<string, string> }).args ?? {};
    // Relative paths resolve against the working directory, as in the provider: the run's `infra/`. The stand-in
    // base images replace the official ones here, where no registry but this one is reachable (.ci/run).
    await buildImage({ ...build, buildArgs: { ...args, ...baseImageBuildArgs() }, tag: name });
    await docker(["push", name]);
    this.pushed.push(name);
    const digests: string[] = JSON.parse(await docker(["image", "inspect", "--format", "{{json .RepoDigests}}", name]));
    const repoDigest = digests.find((d) => d.startsWith(`${name.replace(/:[^:/]+$/, "")}@`));
    if (repoDigest === undefined) throw new Error(`no repository digest for ${name} after the push`);
    return repoDigest.slice(repoDigest.indexOf("@") + 1);
  }

  async tags(repository: string): Promise<unknown> {
    const response = await fetch(`http://${this.server}/v2/${repository}/tags/list`);
    return response.json();
  }
}

describeWithDocker("the image against a real registry and Docker engine", () => {
  const id = randomBytes(4).toString("hex");
  const repository = `newsletter-it-${id}`;
  const checkouts: Checkout[] = [];
  const built: string[] = [];
  let registry: RecordedRegistry;

  beforeAll(async () => {
    if (process.env.REGISTRY === undefined) {
      throw new Error("REGISTRY is not set (.ci/run starts one on 127.0.0.1:5000)");
    }
    registry = new RecordedRegistry(process.env.REGISTRY);
    await registry.start();
  });

  afterAll(async () => {
    // The registry is shared by every test here: take this run's manifests out of it again.
    for (const name of built.filter((n) => n.includes(repository))) {
      const digest = await registry.lookUp(name).catch(() => undefined);
      if (digest !== undefined) {
        await fetch(`http://${registry.server}/v2/newsletter/${repository}/manifests/${digest}`, { method: "DELETE" });
      }
    }
    await removeQuietly("image", built);
    await registry?.stop();
    for (const checkout of checkouts) checkout.remove();
  });

  function clone(): string {
    const copy = copyCheckout();
    checkouts.push(copy);
    return copy.root;
  }

  function up(root: string): Promise<ProgramRun> {
    const config = { ...cliConfig("production", root), "newsletter:imageRepository": repository };
    return runProgram("production", config, { root, registry, asTheCli: true });
  }

  it("builds and pushes once; a run from another clone finds the tag, sends the registry nothing, same digest", async () => {
    const first = await up(clone());
    const images = first.resources.filter((r) => r.type === IMAGE);
    expect(images).toHaveLength(1);
    const imageName = String(images[0]?.inputs.imageName);
    built.push(imageName);
    expect(registry.pushed).toEqual([imageName]);
    const uploads = (requests: string[]) => requests.filter((r) => !/^(GET|HEAD) /.test(r));
    expect(uploads(registry.requests).length).toBeGreaterThan(0);
    const tagsAfterFirst = await registry.tags(`newsletter/${repository}`);
    const manifestAfterFirst = await registry.lookUp(imageName);

    registry.requests.length = 0;
    const second = await up(clone());
    expect(second.resources.filter((r) => r.type === IMAGE)).toEqual([]);
    expect(registry.pushed).toEqual([imageName]);
    // What the registry saw of the second run: one lookup of the tag, no upload of any blob or manifest.
    const seen = [...registry.requests];
    expect(seen).toEqual([`HEAD /v2/newsletter/${repository}/manifests/${imageName.split(":").at(-1)}`]);
    expect(uploads(seen)).toEqual([]);
    expect(second.outputs.imageDigest).toBe(first.outputs.imageDigest);
    expect(second.outputs.imageDigest).toBe(manifestAfterFirst);
    expect(await registry.tags(`newsletter/${repository}`)).toEqual(tagsAfterFirst);
    console.log(
      `[registry] first run: ${registry.pushed.length} push of ${imageName}; second run, from another clone path: ` +
        `${seen.join(", ")}; digest ${String(second.outputs.imageDigest)}`,
    );
  }, 900_000);

  it("hashes exactly the files Docker sends as the build context", async () => {
    const root = clone();
    // Files the .dockerignore keeps out even inside folders it lets in.
    writeFileSync(path.join(root, "app/src/extra.test.ts"), "export {};\n");
    writeFileSync(path.join(root, "app/src/.env"), "X=1\n");
    const work = mkdtempSync(path.join(tmpdir(), "newsletter-context-probe-"));
    const tag = `newsletter-context-probe:${id}`;
    try {
      const dockerfile = path.join(work, "Dockerfile");
      const base = baseImageBuildArgs().BUILD_IMAGE ?? "debian:bookworm-slim";
      writeFileSync(dockerfile, `FROM ${base}\nCOPY . /context/\n`);
      await buildImage({ context: root, dockerfile, tag });
      built.push(tag);
      const listed = await docker([
        "run",
        "--rm",
        "--network",
        "host",
        "--entrypoint",
        "find",
        tag,
        "/context",
        "-type",
        "f,l",
      ]);
      const sent = listed
        .split("\n")
        .map((line) => line.replace(/^\/context\//, ""))
        .filter((line) => line !== "")
        .sort();
      expect(contextFiles(root).map((f) => f.path)).toEqual(sent);
      expect(sent).toContain("app/src/app.ts");
      expect(sent).not.toContain("app/src/extra.test.ts");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);
});

// The image is addressed by its content: the program tags it with a hash of its inputs, looks that tag up in the
// registry, and builds and pushes only when the registry lacks it. Under mocks (tests/infra/support/pulumi-program.ts),
// with a registry that docker.Image pushes to and getRegistryImage reads, and with copies of this checkout to stand
// for other commits and other clone paths, run from `infra/` as the Pulumi CLI runs them.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Checkout, copyCheckout } from "./support/checkout";
import { formatPlan, plan } from "./support/plan";
import {
  cliConfig,
  FakeRegistry,
  type ProgramRun,
  type RecordedResource,
  runProgram,
  UNKNOWN,
} from "./support/pulumi-program";

const STACK = "production";
const IMAGE = "docker:index/image:Image";
const APP = "digitalocean:index/app:App";

interface Spec {
  services: { image: { digest: string }; envs: { key: string; value: string }[] }[];
  jobs: { image: { digest: string }; envs: { key: string; value: string }[] }[];
}

const checkouts: Checkout[] = [];
afterAll(() => {
  for (const checkout of checkouts) checkout.remove();
});

/** A copy of this checkout at a path of its own, with `change` applied: another commit, another clone. */
function checkout(change?: (root: string) => void): string {
  const copy = copyCheckout();
  checkouts.push(copy);
  change?.(copy.root);
  return copy.root;
}

function up(root: string, registry: FakeRegistry): Promise<ProgramRun> {
  return runProgram(STACK, cliConfig(STACK, root), { root, registry, asTheCli: true });
}

function resourcesOf(run: ProgramRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

function spec(run: ProgramRun): Spec {
  const apps = resourcesOf(run, APP);
  expect(apps).toHaveLength(1);
  return apps[0]?.inputs.spec as Spec;
}

function tagOf(run: ProgramRun): string {
  const lookup = run.calls.find((c) => c.token === "docker:index/getRegistryImage:getRegistryImage");
  return String(lookup?.inputs.name);
}

describe("the image, addressed by the hash of its inputs", () => {
  const unchanged = checkout();

  it("registry hit: no docker.Image, nothing pushed, and the spec deploys the registry's digest", async () => {
    const registry = new FakeRegistry();
    const first = await up(unchanged, registry);
    const tag = tagOf(first);
    const registryDigest = "sha256:".padEnd(71, "7");
    registry.tags.set(tag, registryDigest);
    registry.pushes.length = 0;

    const run = await up(unchanged, registry);
    expect(resourcesOf(run, IMAGE)).toEqual([]);
    expect(registry.pushes).toEqual([]);
    expect(spec(run).services[0]?.image.digest).toBe(registryDigest);
    expect(spec(run).jobs[0]?.image.digest).toBe(registryDigest);
    expect(run.outputs.imageDigest).toBe(registryDigest);
  });

  it("registry miss: exactly one docker.Image, one push of that tag, and the spec deploys what was pushed", async () => {
    const registry = new FakeRegistry();
    const run = await up(unchanged, registry);
    const images = resourcesOf(run, IMAGE);
    expect(images).toHaveLength(1);
    expect(images[0]?.inputs.imageName).toBe(tagOf(run));
    expect(registry.pushes).toEqual([tagOf(run)]);
    expect(spec(run).services[0]?.image.digest).toBe(registry.tags.get(tagOf(run)));
    // Relative to `infra/`, where the CLI runs the program and the provider: the same in every clone.
    expect(images[0]?.inputs.build).toMatchObject({ context: "..", dockerfile: "../Dockerfile" });
  });

  it("two commits with the same image inputs, in two clones: the same tag, one push in all, and no change", async () => {
    const other = checkout((root) => appendFileSync(path.join(root, "README.md"), "\nA line about nothing.\n"));
    const registry = new FakeRegistry();
    const first = await up(unchanged, registry);
    const second = await up(other, registry);

    expect(tagOf(second)).toBe(tagOf(first));
    expect(tagOf(first)).toMatch(/:production-[0-9a-f]{32}$/);
    expect(registry.pushes).toEqual([tagOf(first)]);
    expect(resourcesOf(second, IMAGE)).toEqual([]);
    expect(spec(second)).toEqual(spec(first));

    // The preview of the second commit, after a run that found the image too: nothing to do.
    const steady = await up(unchanged, registry);
    const steps = plan(steady, second);
    console.log(`[preview of a README-only commit]\n${formatPlan(steps, second)}`);
    expect(steps).toEqual([]);
    // Right after the run that built the image, the build's record leaves the state. That delete removes nothing
    // (pulumi-docker provider/provider.go, Delete: returns at once); the app stays as it is.
    const afterBuild = plan(first, second);
    console.log(`[preview of a README-only commit, right after the build]\n${formatPlan(afterBuild, second)}`);
    expect(afterBuild).toEqual([{ op: "delete", type: IMAGE, name: "image-image" }]);
  });

  it("a change to files the .dockerignore excludes changes nothing", async () => {
    const other = checkout((root) => {
      // Inside folders the image is built from, but excluded: tests, env files, logs; and outside them.
      writeFileSync(path.join(root, "app/src/settings.test.ts"), "export {};\n");
      writeFileSync(path.join(root, "app/src/.env"), "APP_DATABASE__PASSWORD=local\n");
      mkdirSync(path.join(root, "app/src/node_modules/left-pad"), { recursive: true });
      writeFileSync(path.join(root, "app/src/node_modules/left-pad/index.js"), "module.exports = 1;\n");
      appendFileSync(path.join(root, "infra/naming.ts"), "\n// A comment.\n");
      // What `pulumi up` itself writes into the tracked stack file before the program runs (the secrets provider),
      // which once made CI's images `<sha>-dirty`: the image doesn't depend on git, so nothing changes.
      appendFileSync(path.join(root, "Pulumi.production.yaml"), "encryptionsalt: v1:abc:v1:def:ghi\n");
      appendFileSync(path.join(root, "app/package.json"), "");
    });
    const registry = new FakeRegistry();
    const first = await up(unchanged, registry);
    const second = await up(other, registry);
    expect(tagOf(second)).toBe(tagOf(first));
    expect(resourcesOf(second, IMAGE)).toEqual([]);
    expect(registry.pushes).toHaveLength(1);
  });

  it("a one-line change in app/src changes the tag: one build, one push, a new digest and version in the spec", async () => {
    const other = checkout((root) => appendFileSync(path.join(root, "app/src/app.ts"), "// One more line.\n"));
    const registry = new FakeRegistry();
    const first = await up(unchanged, registry);
    const second = await up(other, registry);

    expect(tagOf(second)).not.toBe(tagOf(first));
    expect(resourcesOf(second, IMAGE)).toHaveLength(1);
    expect(registry.pushes).toEqual([tagOf(first), tagOf(second)]);
    expect(spec(second).services[0]?.image.digest).not.toBe(spec(first).services[0]?.image.digest);
    const version = (run: ProgramRun) =>
      spec(run).services[0]?.envs.find((e) => e.key === "APP_APPLICATION__VERSION")?.value;
    expect(tagOf(second).endsWith(`-${version(second)}`)).toBe(true);
    expect(version(second)).not.toBe(version(first));
    const steps = plan(first, second);
    console.log(`[preview of a commit that changes app/src]\n${formatPlan(steps, second)}`);
    // With real credentials, the lookup's provider (`image-registry`) shows an update too: it holds the new ones.
    // The mocks hand out the same credentials every time.
    expect(steps).toEqual([
      {
        op: "replace",
        type: "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials",
        name: "image-push-credentials",
      },
      { op: "update", type: IMAGE, name: "image-image" },
      { op: "update", type: APP, name: "app-app" },
    ]);
  });
});

describe("pulumi preview (the engine's dry run: nothing is built or pushed)", () => {
  const deployed = checkout();
  const preview = (root: string, registry: FakeRegistry) =>
    runProgram(STACK, cliConfig(STACK, root), { root, registry, asTheCli: true, preview: true });

  it("of a README-only commit: finds the tag, knows the digest, and plans no change at all", async () => {
    const registry = new FakeRegistry();
    await up(deployed, registry);
    const state = await up(deployed, registry);
    const readme = checkout((root) => appendFileSync(path.join(root, "README.md"), "\nTypo fixed.\n"));
    const run = await preview(readme, registry);
    expect(resourcesOf(run, IMAGE)).toEqual([]);
    expect(run.outputs.imageDigest).toBe(state.outputs.imageDigest);
    expect(spec(run)).toEqual(spec(state));
    expect(plan(state, run)).toEqual([]);
    expect(registry.pushes).toHaveLength(1);
  });

  it("of a change to app/src: plans one build and an app update, pushes nothing, and leaves the digest to `up`", async () => {
    const registry = new FakeRegistry();
    const state = await up(deployed, registry);
    const changed = checkout((root) => appendFileSync(path.join(root, "app/src/server.ts"), "// Changed.\n"));
    const run = await preview(changed, registry);
    expect(resourcesOf(run, IMAGE)).toHaveLength(1);
    expect(registry.pushes).toEqual([tagOf(state)]);
    expect(run.outputs.imageDigest).toBe(UNKNOWN);
    expect(plan(state, run).map((s) => `${s.op} ${s.name}`)).toEqual([
      "replace image-push-credentials",
      "update image-image",
      "update app-app",
    ]);
  });
});

describe("an image built outside Pulumi (prebuiltImageDigest)", () => {
  const digest = `sha256:${"5e".repeat(32)}`;

  it("deploys that digest: no credentials, no lookup, no build, and its digest as the version", async () => {
    const registry = new FakeRegistry();
    const run = await runProgram(
      STACK,
      { ...cliConfig(STACK), "newsletter:prebuiltImageDigest": digest },
      { registry },
    );
    expect(run.resources.filter((r) => /docker|Credentials/.test(r.type))).toEqual([]);
    expect(run.calls.map((c) => c.token)).toEqual(["digitalocean:index/getContainerRegistry:getContainerRegistry"]);
    expect(registry.pushes).toEqual([]);
    expect(spec(run).services[0]?.image).toEqual({ registryType: "DOCR", repository: "newsletter", digest });
    expect(spec(run).jobs[0]?.image.digest).toBe(digest);
    expect(spec(run).services[0]?.envs.at(-1)).toEqual({
      key: "APP_APPLICATION__VERSION",
      value: "5e".repeat(16),
      scope: "RUN_TIME",
      type: "GENERAL",
    });
    expect(run.outputs.imageDigest).toBe(digest);
    expect(run.outputs.imageRepository).toBe("registry.digitalocean.com/newsletter/newsletter");
  });

  it("refuses a tag or a short digest, naming the key and the form it takes", async () => {
    await expect(
      runProgram(STACK, { ...cliConfig(STACK), "newsletter:prebuiltImageDigest": "newsletter:v1" }),
    ).rejects.toThrow('newsletter:prebuiltImageDigest: "newsletter:v1" is not accepted; expected a manifest digest');
  });
});

// The app's image in the account's DOCR registry, as `registry.digitalocean.com/<registry>/<repository>:<stack>-<version>`,
// where the version is a content hash of the image's inputs (infra/version.ts). The tag is looked up first: if the
// registry has it, that image is deployed as it is, and nothing is built or pushed; if not, it is built and pushed
// with @pulumi/docker. Either way the app is deployed by manifest digest, never by tag, so an unchanged image leaves
// the spec, and the app, as they are (docker.Image docs: "use the repoDigest Output ... unique per build and push").
//
// Because the lookup needs no build, a preview knows the digest whenever the inputs are unchanged and shows no change
// to the image or the app; docker.Image alone can't tell during a preview (it builds only on `up`, pulumi-docker#540).
import * as digitalocean from "@pulumi/digitalocean";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { digestOf } from "./app-spec";
import type { ImageBuildSettings } from "./image";

/**
 * Push credentials live one hour: long enough for a build and push, short enough that a leaked state file doesn't
 * hold a working registry login (the provider's default is about 50 years). They are created anew whenever the tag
 * changes (`replacementTrigger`), so a run that builds and pushes always does so with credentials made in that run.
 * A run whose tag is unchanged only looks the tag up, right after the refresh that Pulumi.yaml asks for
 * (`options.refresh: always`), which renews them once expired (terraform-provider-digitalocean
 * digitalocean/registry/resource_container_registry_docker_credentials.go, updateExpiredDockerCredentials: renewed
 * only when `credential_expiration_time` has passed).
 */
export const PUSH_CREDENTIALS_TTL_SECONDS = 3_600;

export interface DockerLogin {
  readonly username: string;
  readonly password: string;
}

/**
 * The login inside the Docker config JSON that ContainerRegistryDockerCredentials returns:
 * `{"auths":{"registry.digitalocean.com":{"auth":"<base64 of user:token>"}}}`.
 */
export function dockerLoginFromConfig(dockerConfigJson: string, server: string): DockerLogin {
  const parsed = JSON.parse(dockerConfigJson) as { auths?: Record<string, { auth?: string }> };
  const auth = parsed.auths?.[server]?.auth;
  if (auth === undefined) throw new Error(`The registry credentials hold no login for ${server}`);
  const decoded = Buffer.from(auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw new Error(`The registry credentials for ${server} are not in user:password form`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A Docker tag from the stack and version: `[A-Za-z0-9_.-]`, at most 128 characters, not starting with . or -. */
export function imageTag(stack: string, version: string): string {
  const tag = `${stack}-${version}`.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[.-]+/, "");
  return tag.slice(0, 128);
}

/**
 * Whether a failed getRegistryImage means "no such tag". The data source has no "not found" result: it fails. A HEAD
 * (then a GET) of the manifest that answers anything but 200 fails with `got bad response from registry: <status>`,
 * Go's `resp.Status`, so "404 Not Found" for a missing tag (kreuzwerker/terraform-provider-docker v4.5.0, the
 * upstream of @pulumi/docker 5.x, internal/provider/data_source_docker_registry_image.go, getImageDigest and
 * doDigestRequest). The bridge and the engine only wrap that message ("invoking <token>: ...", pulumi-terraform-bridge
 * pkg/tfbridge/provider.go Invoke; "invocation of <token> returned an error: ...", pulumi/pulumi
 * pkg/resource/deploy/source_eval.go Invoke). Anything else (401 bad credentials, a network error) is a real error.
 */
export function isMissingTag(error: unknown): boolean {
  return error instanceof Error && /got bad response from registry: 404 Not Found/.test(error.message);
}

/** The value of an Output, or undefined where it isn't known yet (during a preview, a resource still to be created). */
function knownValue<T>(output: pulumi.Output<T>): Promise<T | undefined> {
  // `isKnown` is set on every Output the SDK creates (@pulumi/pulumi output.ts, OutputImpl); it is false only during
  // a preview. Waiting on `apply` alone would never return for an unknown value: the callback doesn't run.
  const { isKnown } = output as unknown as { isKnown: Promise<boolean> };
  return isKnown.then((known) =>
    known ? new Promise<T>((resolve) => output.apply((value) => resolve(value))) : undefined,
  );
}

export interface ContainerImageArgs {
  readonly registryName: pulumi.Input<string>;
  readonly serverUrl: pulumi.Input<string>;
  readonly repository: string;
  /** The stack: the first part of the tag, so that one stack's tags can be listed and deleted (ops/images.ts). */
  readonly stack: string;
  readonly build: ImageBuildSettings;
}

export class ContainerImage extends pulumi.ComponentResource {
  /** `registry.digitalocean.com/<registry>/<repository>@sha256:...` */
  readonly repoDigest: pulumi.Output<string>;
  /** `sha256:...`, what the app spec deploys. */
  readonly digest: pulumi.Output<string>;
  readonly imageName: pulumi.Output<string>;
  /** `registry.digitalocean.com/<registry>/<repository>`: where every stack's tags of this image live. */
  readonly repository: pulumi.Output<string>;
  /** The content hash of the image's inputs: the tag's second half, and the version the app reports. */
  readonly version: string;

  constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("newsletter:infra:ContainerImage", name, {}, opts);
    const tag = imageTag(args.stack, args.build.version);

    // Short-lived, write-enabled credentials, made anew for every new tag (see PUSH_CREDENTIALS_TTL_SECONDS).
    const credentials = new digitalocean.ContainerRegistryDockerCredentials(
      `${name}-push-credentials`,
      { registryName: args.registryName, write: true, expirySeconds: PUSH_CREDENTIALS_TTL_SECONDS },
      { parent: this, replacementTrigger: tag },
    );
    const login = pulumi
      .all([credentials.dockerCredentials, args.serverUrl])
      .apply(([json, server]) => dockerLoginFromConfig(json, server));
    const username = login.apply((l) => l.username);
    const password = pulumi.secret(login.apply((l) => l.password));

    const repository = pulumi.interpolate`${args.serverUrl}/${args.registryName}/${args.repository}`;
    const imageName = pulumi.interpolate`${repository}:${tag}`;
    // getRegistryImage authenticates with the provider's `registryAuth` for the image's registry, and nothing else
    // (data_source_docker_registry_image.go, dataSourceDockerRegistryImageRead: getAuthConfigForRegistry), hence a
    // provider of its own holding the same credentials as the push.
    const registry = new docker.Provider(
      `${name}-registry`,
      { registryAuth: [{ address: args.serverUrl, username, password }] },
      { parent: this },
    );

    const found = this.lookUp(imageName, registry);
    this.repoDigest = pulumi.output(
      found.then((repoDigest) => {
        if (repoDigest !== undefined) return pulumi.output(repoDigest);
        const image = new docker.Image(
          `${name}-image`,
          {
            imageName,
            build: {
              context: args.build.context,
              dockerfile: args.build.dockerfile,
              target: args.build.target,
              // App Platform runs linux/amd64 containers.
              platform: args.build.platform,
              args: { ...args.build.args },
              // The Dockerfile's RUN --mount (cache, bind) needs BuildKit.
              builderVersion: "BuilderBuildKit",
            },
            registry: { server: args.serverUrl, username, password },
          },
          { parent: this },
        );
        return image.repoDigest;
      }),
    );
    this.digest = this.repoDigest.apply(digestOf);
    this.imageName = imageName;
    this.repository = repository;
    this.version = args.build.version;
    this.registerOutputs({
      repoDigest: this.repoDigest,
      digest: this.digest,
      imageName: this.imageName,
      repository: this.repository,
    });
  }

  /**
   * `<repository>@sha256:...` when the registry has the tag; undefined when it hasn't, or when that can't be known
   * yet (a preview in which the credentials are still to be created): then the image is built.
   */
  private async lookUp(imageName: pulumi.Output<string>, registry: docker.Provider): Promise<string | undefined> {
    const name = await knownValue(imageName);
    if (name === undefined) return undefined;
    try {
      const image = await docker.getRegistryImage({ name }, { parent: this, provider: registry });
      // A provider whose configuration is still unknown answers an invoke with no values during a preview
      // (pulumi/pulumi sdk/go/common/resource/plugin/provider_plugin.go, Invoke).
      if (image.sha256Digest === undefined) return undefined;
      return `${name.replace(/:[^:/]+$/, "")}@${image.sha256Digest}`;
    } catch (error) {
      if (isMissingTag(error)) return undefined;
      throw error;
    }
  }
}

export interface PrebuiltImageArgs {
  readonly registryName: pulumi.Input<string>;
  readonly serverUrl: pulumi.Input<string>;
  readonly repository: string;
  /** `sha256:...`: the manifest digest of an image already pushed to `repository`. */
  readonly digest: string;
}

/**
 * An image built and pushed outside Pulumi, deployed by its digest: nothing is built, pushed or looked up. For builds
 * that docker.Image can't run, such as ones that need BuildKit secrets (`docker build --secret`), which its build
 * options have no field for (@pulumi/docker 5.x, docker.Image `build`: args, builderVersion, cacheFrom, context,
 * dockerfile, network, platform, target). Its version is the digest's first 32 hex digits.
 */
export function prebuiltImage(args: PrebuiltImageArgs): Pick<ContainerImage, "digest" | "repository" | "version"> {
  const digest = digestOf(`${args.repository}@${args.digest}`);
  return {
    digest: pulumi.output(digest),
    repository: pulumi.interpolate`${args.serverUrl}/${args.registryName}/${args.repository}`,
    version: digest.slice("sha256:".length, "sha256:".length + 32),
  };
}

// The app's image: built from the repository's Dockerfile with @pulumi/docker and pushed to the account's DOCR
// registry, as `registry.digitalocean.com/<registry>/<repository>:<stack>-<version>`. The app is deployed by the
// pushed manifest digest (`repoDigest`), never by the tag: a new image changes the spec and redeploys, an unchanged
// one leaves the spec, and the app, as they are (docker.Image docs: "use the repoDigest Output ... unique per build
// and push").
import * as digitalocean from "@pulumi/digitalocean";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { digestOf } from "./app-spec";
import type { ImageBuildSettings } from "./image";

/**
 * Push credentials live one hour: long enough for a build and push, short enough that a leaked state file doesn't
 * hold a working registry login (the provider's default is about 50 years). Once expired, the provider issues new
 * ones when it reads the resource (resource_container_registry_docker_credentials.go, updateExpiredDockerCredentials),
 * which is why Pulumi.yaml sets `options.refresh: always`.
 */
export const PUSH_CREDENTIALS_TTL_SECONDS = 3_600;

export interface ContainerImageArgs {
  readonly registryName: pulumi.Input<string>;
  readonly serverUrl: pulumi.Input<string>;
  readonly repository: string;
  readonly tag: string;
  readonly build: ImageBuildSettings;
}

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
export function imageTag(stack: string, appVersion: string): string {
  const tag = `${stack}-${appVersion}`.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[.-]+/, "");
  return tag.slice(0, 128);
}

export class ContainerImage extends pulumi.ComponentResource {
  /** `registry.digitalocean.com/<registry>/<repository>@sha256:...` */
  readonly repoDigest: pulumi.Output<string>;
  /** `sha256:...`, what the app spec deploys. */
  readonly digest: pulumi.Output<string>;
  readonly imageName: pulumi.Output<string>;
  /** `registry.digitalocean.com/<registry>/<repository>`: where every stack's tags of this image live. */
  readonly repository: pulumi.Output<string>;

  constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("newsletter:infra:ContainerImage", name, {}, opts);

    // Short-lived, write-enabled credentials for this push only.
    const credentials = new digitalocean.ContainerRegistryDockerCredentials(
      `${name}-push-credentials`,
      { registryName: args.registryName, write: true, expirySeconds: PUSH_CREDENTIALS_TTL_SECONDS },
      { parent: this },
    );
    const login = pulumi
      .all([credentials.dockerCredentials, args.serverUrl])
      .apply(([json, server]) => dockerLoginFromConfig(json, server));

    const repository = pulumi.interpolate`${args.serverUrl}/${args.registryName}/${args.repository}`;
    const image = new docker.Image(
      `${name}-image`,
      {
        imageName: pulumi.interpolate`${repository}:${args.tag}`,
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
        registry: {
          server: args.serverUrl,
          username: login.apply((l) => l.username),
          password: pulumi.secret(login.apply((l) => l.password)),
        },
      },
      { parent: this },
    );

    this.repoDigest = image.repoDigest;
    this.digest = image.repoDigest.apply(digestOf);
    this.imageName = image.imageName;
    this.repository = repository;
    this.registerOutputs({
      repoDigest: this.repoDigest,
      digest: this.digest,
      imageName: this.imageName,
      repository: this.repository,
    });
  }
}

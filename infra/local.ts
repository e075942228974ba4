// The `local` stack: the deployment App Platform gets, on the developer's own Docker engine. The same image (built,
// never pushed), the same environment contract, a Postgres container in place of the managed database, and the
// migrations run to completion before the app starts. The data lives in a named volume; whether `pulumi destroy`
// removes it is the `localKeepDataOnDestroy` stack setting. Everything it creates is described by infra/local-spec.ts.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSettings, EnvVar } from "./env";
import { type ContainerSpec, type LocalImageSpec, type LocalNetworkMode, localDeploymentSpec } from "./local-spec";

export interface LocalDeploymentArgs {
  readonly networkMode: LocalNetworkMode;
  /** http://127.0.0.1:<port> */
  readonly port: number;
  readonly postgresImage: string;
  /** Host network mode only: Postgres's loopback port. Default 5432. */
  readonly postgresPort?: number;
  /** Keep the Postgres volume (and so the data) when the stack is destroyed. */
  readonly keepDataOnDestroy: boolean;
  /**
   * The Postgres password, a Pulumi secret from the stack's config. It must outlive the stack's resources: Postgres
   * applies POSTGRES_PASSWORD only when it initialises an empty volume, so a volume kept across `pulumi destroy`
   * still expects the password it was created with.
   */
  readonly postgresPassword: pulumi.Input<string>;
  /** The version the app reports; by default the hash of the image's inputs. */
  readonly appVersion?: string;
  /** Base-image overrides for the build (mirrors of the official images). */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** The stack's `appEnv` and `appSecrets`, for the app and the migrations, as App Platform gets them. */
  readonly appSettings?: AppSettings<string>;
}

export class LocalDeployment extends pulumi.ComponentResource {
  /** Where the app answers: http://127.0.0.1:<port>. */
  readonly url: pulumi.Output<string>;
  readonly postgresContainerName: pulumi.Output<string>;
  readonly migrateContainerName: pulumi.Output<string>;
  readonly appContainerName: pulumi.Output<string>;
  readonly volumeName: pulumi.Output<string>;

  constructor(name: string, args: LocalDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("newsletter:infra:LocalDeployment", name, {}, opts);

    const password = pulumi.secret(args.postgresPassword);
    const spec = localDeploymentSpec(
      {
        project: pulumi.getProject(),
        stack: pulumi.getStack(),
        networkMode: args.networkMode,
        port: args.port,
        postgresImage: args.postgresImage,
        postgresPort: args.postgresPort ?? 5432,
        appVersion: args.appVersion,
        buildArgs: args.buildArgs,
        arch: process.arch,
      },
      password,
      {
        env: args.appSettings?.env ?? {},
        secrets: Object.fromEntries(
          Object.entries(args.appSettings?.secrets ?? {}).map(([key, value]) => [key, pulumi.secret(value)]),
        ),
      },
    );

    const image = this.buildImage(name, spec.image);
    const network = spec.network === undefined ? undefined : this.createNetwork(name, spec.network);
    const networkMode = network?.name ?? args.networkMode;
    const volume = this.createVolume(name, spec.names.volume, args.keepDataOnDestroy);
    const postgresImage = this.pullPostgresImage(name, args.postgresImage);
    const postgres = this.createContainer(`${name}-postgres`, spec.postgres, postgresImage.imageId, networkMode, [
      volume,
      ...(network ? [network] : []),
    ]);
    const migrate = this.createContainer(`${name}-migrate`, spec.migrate, image.repoDigest, networkMode, [postgres]);
    const app = this.createContainer(`${name}-app`, spec.app, image.repoDigest, networkMode, [migrate], migrate);

    this.url = pulumi.output(spec.url);
    this.postgresContainerName = postgres.name;
    this.migrateContainerName = migrate.name;
    this.appContainerName = app.name;
    this.volumeName = volume.name;
    this.registerOutputs({
      url: this.url,
      postgresContainerName: this.postgresContainerName,
      migrateContainerName: this.migrateContainerName,
      appContainerName: this.appContainerName,
      volumeName: this.volumeName,
    });
  }

  /** The app image, built from the repository's Dockerfile and kept in the local engine: no registry, no push. */
  private buildImage(name: string, spec: LocalImageSpec): docker.Image {
    return new docker.Image(
      `${name}-image`,
      {
        imageName: spec.imageName,
        skipPush: true,
        build: {
          context: spec.build.context,
          dockerfile: spec.build.dockerfile,
          target: spec.build.target,
          platform: spec.build.platform,
          args: { ...spec.build.args },
          // The Dockerfile uses RUN --mount (cache, bind, secret), which only BuildKit understands.
          builderVersion: "BuilderBuildKit",
          ...(spec.buildNetwork ? { network: spec.buildNetwork } : {}),
        },
      },
      { parent: this },
    );
  }

  /** A user-defined network: containers resolve each other by name, and Postgres is not published on the host. */
  private createNetwork(name: string, networkName: string): docker.Network {
    return new docker.Network(`${name}-network`, { name: networkName }, { parent: this });
  }

  /**
   * Postgres's data. With `retainOnDelete`, `pulumi destroy` drops the volume from the stack but leaves it in Docker
   * (https://www.pulumi.com/docs/iac/concepts/resources/options/retainondelete/); the next `pulumi up` creates a volume
   * of the same name, which Docker answers with the existing one, so the data is back.
   */
  private createVolume(name: string, volumeName: string, keepData: boolean): docker.Volume {
    return new docker.Volume(`${name}-pgdata`, { name: volumeName }, { parent: this, retainOnDelete: keepData });
  }

  /** The Postgres image, pulled if missing, and left in place on destroy (other projects may use it too). */
  private pullPostgresImage(name: string, imageName: string): docker.RemoteImage {
    return new docker.RemoteImage(`${name}-postgres-image`, { name: imageName, keepLocally: true }, { parent: this });
  }

  private createContainer(
    logicalName: string,
    spec: ContainerSpec<pulumi.Output<string> | string>,
    image: pulumi.Input<string>,
    networkMode: pulumi.Input<string>,
    dependsOn: pulumi.Resource[],
    /** A one-shot container that must have exited 0 before this one is created or changed. */
    gate?: docker.Container,
  ): docker.Container {
    return new docker.Container(
      logicalName,
      {
        name: spec.name,
        image,
        envs: dockerEnvs(spec.env),
        ...(spec.entrypoint ? { entrypoints: [...spec.entrypoint] } : {}),
        ...(spec.command ? { command: [...spec.command] } : {}),
        ...(spec.healthcheck
          ? {
              healthcheck: {
                tests: [...spec.healthcheck.test],
                interval: spec.healthcheck.interval,
                timeout: spec.healthcheck.timeout,
                retries: spec.healthcheck.retries,
                startPeriod: spec.healthcheck.startPeriod,
              },
            }
          : {}),
        networkMode,
        ports: spec.ports.map((p) => ({ internal: p.internal, external: p.external, ip: p.ip })),
        volumes: spec.volumes.map((v) => ({ volumeName: v.volumeName, containerPath: v.containerPath })),
        restart: spec.restart,
        ...(spec.runToCompletion
          ? // Wait for the container to exit and keep it (its exit code is the result). The provider records a failed
            // exit in `exitCode` instead of failing, so the app waits on that code: see afterSuccessfulMigration.
            { attach: true, mustRun: false }
          : {
              // `pulumi up` returns once Docker reports the container healthy, not merely started.
              wait: true,
              waitTimeout: 120,
              // The gate rides on a property the provider updates in place (destroy_grace_seconds has no ForceNew
              // in kreuzwerker/terraform-provider-docker, internal/provider/resource_docker_container.go). When the
              // migration container is replaced (delete-before-replace: pulumi/pulumi-docker provider/resources.go
              // sets DeleteBeforeReplace for docker_container), the engine deletes first only the dependents whose
              // provider diff, with the dependent properties unknown, asks for a replacement (pulumi/pulumi v3.248.0,
              // pkg/resource/deploy/step_generator.go, calculateDependentReplacements). Carried by `image` (ForceNew),
              // the gate made the engine delete the serving app before the new migration ran; carried here, the
              // old app keeps serving until the migration has exited 0, and is replaced only then.
              destroyGraceSeconds:
                gate === undefined ? spec.stopGraceSeconds : afterSuccessfulMigration(gate, spec.stopGraceSeconds),
            }),
      },
      {
        parent: this,
        dependsOn,
        // A container name is unique per engine, so a replacement must remove the old container first; Pulumi
        // creates the new one first by default (https://github.com/pulumi/pulumi-docker/issues/1356, by design).
        deleteBeforeReplace: true,
      },
    );
  }
}

/** `KEY=VALUE` strings for Docker; one secret value makes the whole list a secret in the state. */
function dockerEnvs(vars: readonly EnvVar<pulumi.Output<string> | string>[]): pulumi.Output<string[]> {
  return pulumi.all(vars.map((v) => pulumi.output(v.value).apply((value) => `${v.name}=${value}`)));
}

/**
 * `value`, available only once the migration container has exited 0. The Docker provider waits for an attached
 * container to stop but does not fail on its exit code; it records it in `exitCode` (kreuzwerker/terraform-provider-docker,
 * internal/provider/resource_docker_container_funcs.go: resourceDockerContainerCreate waits with ContainerWait when
 * `attach` is set, and resourceDockerContainerRead sets `exit_code` once the container is not running). Failing here
 * stops `pulumi up` before the app is created or replaced, as a failed PRE_DEPLOY job stops an App Platform rollout.
 */
export function afterSuccessfulMigration<T>(migrate: docker.Container, value: pulumi.Input<T>): pulumi.Output<T> {
  return pulumi.all([migrate.exitCode, migrate.name, migrate.urn, value]).apply(([exitCode, name, urn, passed]) => {
    if (exitCode !== 0) {
      throw new Error(
        `The migrations failed: container ${name} exited with code ${exitCode}. See \`docker logs ${name}\`, ` +
          `fix the cause, then run them again with \`pulumi up --stack ${pulumi.getStack()} --replace '${urn}'\` ` +
          "(a new image reruns them by itself).",
      );
    }
    return passed as T;
  });
}

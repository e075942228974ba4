// The Pulumi program (Pulumi.yaml `main`): wiring only. It reads the stack's validated config once, creates one
// component per concern, and exports a few outputs. The stack named `local` deploys to the local Docker engine
// (infra/local.ts); every other stack (production, pr-<number>) deploys to DigitalOcean App Platform.
import * as pulumi from "@pulumi/pulumi";
import { AppPlatformApp } from "./app";
import type { SpecDatabase } from "./app-spec";
import { type DigitalOceanStackConfig, type LocalStackConfig, loadStackConfig } from "./config";
import { ContainerImage, prebuiltImage } from "./container-image";
import { estimateMonthlyCost } from "./cost";
import { Database } from "./database";
import { imageBuildSettings } from "./image";
import { LocalDeployment } from "./local";
import { physicalName, stackIdentity } from "./naming";
import { PROJECT_NAME_MAX_LENGTH, StackProject } from "./project";
import { Registry } from "./registry";
import { DatabaseTrustedSources } from "./trusted-sources";

/** DigitalOcean's limits: app names 2–32 characters (app spec `name`), database cluster names up to 63. */
const APP_NAME_MAX_LENGTH = 32;
const CLUSTER_NAME_MAX_LENGTH = 63;

interface StackOutputs {
  readonly url: pulumi.Input<string>;
  readonly appId?: pulumi.Input<string>;
  readonly imageDigest?: pulumi.Input<string>;
  readonly imageRepository?: pulumi.Input<string>;
  readonly databaseClusterName?: pulumi.Input<string>;
  readonly estimatedMonthlyCostUsd?: number;
  readonly containers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

function deployToDigitalOcean(config: DigitalOceanStackConfig): StackOutputs {
  const { project, stack } = config;

  // The stack's identity on everything it creates in DigitalOcean: its own project (apps and clusters are created in
  // it) and a tag on the cluster. The reaper deletes only leftovers that carry it.
  const identity = stackIdentity(project, stack);
  const stackProject = new StackProject("project", {
    name: physicalName({ project, stack, maxLength: PROJECT_NAME_MAX_LENGTH }),
    identity,
    production: stack === "production",
  });

  const registry = new Registry("registry", config.registry);
  const imageLocation = {
    registryName: registry.name,
    serverUrl: registry.serverUrl,
    repository: config.imageRepository,
  };
  // An image built outside Pulumi (e.g. `docker build --secret ...` behind a TLS-intercepting proxy), deployed by its
  // digest; otherwise the one tagged with the hash of this checkout's image inputs, built only if the registry lacks it.
  const image = config.prebuiltImageDigest
    ? prebuiltImage({ ...imageLocation, digest: config.prebuiltImageDigest })
    : new ContainerImage("image", { ...imageLocation, stack, build: imageBuildSettings() });

  const clusterSettings = config.database.kind === "cluster" ? config.database : undefined;
  const database = clusterSettings
    ? new Database("database", {
        clusterName: physicalName({ project, stack, suffix: "db", maxLength: CLUSTER_NAME_MAX_LENGTH }),
        databaseName: project,
        appUser: `${project}_app`,
        settings: clusterSettings,
        projectId: stackProject.id,
        tags: [identity],
      })
    : undefined;
  // With `migrationDatabaseAccess: admin-secret` the admin's password joins the spec (infra/app-spec.ts says why and
  // what it costs); otherwise it stays out of the spec, which then holds no secret at all.
  const adminPassword =
    database && clusterSettings?.migrationAccess === "admin-secret" ? database.adminPassword : undefined;
  const specDatabase: pulumi.Input<SpecDatabase> =
    database && clusterSettings
      ? pulumi
          .all([database.clusterName, database.databaseName, database.appUser, database.adminUser, adminPassword])
          .apply(([clusterName, databaseName, serviceUser, adminUser, password]) => ({
            kind: "cluster" as const,
            clusterName,
            databaseName,
            serviceUser,
            adminUser,
            ...(password === undefined ? {} : { adminPassword: password }),
            version: clusterSettings.version,
          }))
      : { kind: "dev", version: config.database.version };

  const app = new AppPlatformApp("app", {
    name: physicalName({ project, stack, maxLength: APP_NAME_MAX_LENGTH }),
    region: config.region,
    image: { repository: config.imageRepository, digest: image.digest, version: config.appVersion ?? image.version },
    instanceSize: config.instanceSize,
    instanceCount: config.instanceCount,
    database: specDatabase,
    domain: config.domain,
    appSettings: config.appSettings,
    projectId: stackProject.id,
  });

  if (database && clusterSettings?.trustedSources === "app") {
    new DatabaseTrustedSources("trusted-sources", { clusterId: database.clusterId, appId: app.id });
  }

  return {
    url: app.liveUrl,
    appId: app.id,
    imageDigest: image.digest,
    // The name ContainerImage pushes to, without tag: `review down` and the reaper delete a PR's tags from it.
    imageRepository: image.repository,
    databaseClusterName: database?.clusterName,
    estimatedMonthlyCostUsd: estimateMonthlyCost(config).usdPerMonth,
  };
}

/** The local stack: the same image and env contract on the local Docker engine (infra/local.ts). */
function deployLocally(config: LocalStackConfig): StackOutputs {
  const local = new LocalDeployment("local", {
    networkMode: config.networkMode,
    port: config.port,
    postgresPort: config.postgresPort,
    postgresImage: config.postgresImage,
    keepDataOnDestroy: config.keepDataOnDestroy,
    postgresPassword: pulumi.secret(config.postgresPassword),
    appVersion: config.appVersion,
    appSettings: config.appSettings,
  });
  return {
    url: local.url,
    containers: {
      postgres: local.postgresContainerName,
      migrate: local.migrateContainerName,
      app: local.appContainerName,
      volume: local.volumeName,
    },
  };
}

const config = loadStackConfig();
const outputs = config.target === "local" ? deployLocally(config) : deployToDigitalOcean(config);

/** Where the app answers. */
export const url = outputs.url;
/** The App Platform app's id (DigitalOcean stacks). */
export const appId = outputs.appId;
/** The deployed image's manifest digest (DigitalOcean stacks). */
export const imageDigest = outputs.imageDigest;
/** The pushed image's name, no tag or digest (DigitalOcean stacks): `registry.digitalocean.com/<registry>/<repo>`. */
export const imageRepository = outputs.imageRepository;
/** The managed PostgreSQL cluster's name, where the stack has one. */
export const databaseClusterName = outputs.databaseClusterName;
/** DigitalOcean list price of what this stack runs, per month (infra/prices.ts). */
export const estimatedMonthlyCostUsd = outputs.estimatedMonthlyCostUsd;
/** The local stack's Docker container and volume names. */
export const containers = outputs.containers;

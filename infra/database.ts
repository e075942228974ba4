// Production's database: a managed PostgreSQL cluster, one database and a dedicated app user, all created through
// DigitalOcean's API. The app user is least-privileged: on PostgreSQL 15+ it can't create tables in `public`
// (see infra/app-spec.ts), so the migration job connects as the cluster's admin user and grants it row access.
// `protect` (from config) keeps `pulumi destroy` or a bad refactor from deleting the cluster or the database.
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterDatabaseConfig } from "./config";
import { KEEP_PROJECT } from "./project";

export interface DatabaseArgs {
  readonly clusterName: string;
  readonly databaseName: string;
  readonly appUser: string;
  readonly settings: ClusterDatabaseConfig;
  /** The stack's DigitalOcean project, where the cluster is created (infra/project.ts). */
  readonly projectId?: pulumi.Input<string>;
  /** The stack's identity tag (infra/naming.ts, stackIdentity). */
  readonly tags?: readonly string[];
}

export class Database extends pulumi.ComponentResource {
  readonly clusterId: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly databaseName: pulumi.Output<string>;
  /** The dedicated user the service connects as. */
  readonly appUser: pulumi.Output<string>;
  /** The cluster's admin user (`doadmin`), which the migration job connects as. */
  readonly adminUser: pulumi.Output<string>;
  /** The admin user's password (a Pulumi secret); used only by `migrationDatabaseAccess: admin-secret`. */
  readonly adminPassword: pulumi.Output<string>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("newsletter:infra:Database", name, {}, opts);
    const { settings } = args;

    // The cluster: engine, version, size, node count (primary + standbys) and region from the stack config.
    const cluster = new digitalocean.DatabaseCluster(
      `${name}-cluster`,
      {
        name: args.clusterName,
        engine: "pg",
        version: settings.version,
        size: settings.size,
        nodeCount: settings.nodeCount,
        region: settings.region,
        projectId: args.projectId,
        tags: args.tags === undefined ? undefined : [...args.tags],
      },
      { parent: this, protect: settings.protect, ...KEEP_PROJECT },
    );
    // The app's database; protected like the cluster, since deleting it deletes the data.
    const database = new digitalocean.DatabaseDb(
      `${name}-database`,
      { clusterId: cluster.id, name: args.databaseName },
      { parent: this, protect: settings.protect },
    );
    // The service's user. App Platform reads its password from DigitalOcean when it binds `${db.PASSWORD}`.
    const user = new digitalocean.DatabaseUser(
      `${name}-app-user`,
      { clusterId: cluster.id, name: args.appUser },
      { parent: this },
    );

    this.clusterId = cluster.id;
    this.clusterName = cluster.name;
    this.databaseName = database.name;
    this.appUser = user.name;
    this.adminUser = cluster.user;
    this.adminPassword = pulumi.secret(cluster.password);
    this.registerOutputs({
      clusterId: this.clusterId,
      clusterName: this.clusterName,
      databaseName: this.databaseName,
      appUser: this.appUser,
      adminUser: this.adminUser,
    });
  }
}

// The cluster's trusted sources: only the app may connect. A rule of type `app` names the app by id
// (terraform-provider-digitalocean #668 added the type; #795 shows its use), and that id exists only after the app's
// first deployment, whose PRE_DEPLOY job already connects (terraform-provider-digitalocean #841). So this component
// is created after the app: during the very first deploy the cluster is still open to TLS connections that present a
// password ("by default, every database cluster is publicly accessible", docs.digitalocean.com/products/databases/
// postgresql/how-to/modify-user-privileges), and every deploy after that runs with the rule in place.
//
// Two orders of events follow from a rule that names an app, and each is handled:
// - Changing the rules starts an App Platform deployment of its own, cause UPDATE_DATABASE_TRUSTED_SOURCES ("A
//   deployment that was created due to an update in database trusted sources", digitalocean/godo apps.gen.go,
//   DeploymentCauseDetailsType). Pulumi doesn't wait for it, so the migration job runs once more after `pulumi up`
//   has returned, with the same image and spec. That run is safe by construction: applied migrations are recorded
//   and skipped, runs queue on one advisory lock whose wait is bounded, and the grants are idempotent
//   (app/src/migrations.ts; tests/app/migrate.test.ts runs the job twice, two at once, and against a stuck lock). A
//   check right after `up` may still see that deployment in progress: ops/digitalocean.ts (unsettledDeployments,
//   describeUnsettledDeployments) finds it and says to wait until it is ACTIVE before judging the app.
// - Replacing the app (`pulumi up --replace` on it, or a change App Platform can't apply in place) creates a new
//   app with a new id before the old one goes, while the rule still names the old id: the new app's first job can't
//   connect and the deploy fails (terraform-provider-digitalocean #1005: "The app fails to deploy because the
//   database is unavailable"). The provider applies rule changes in place (`rule` is not ForceNew in
//   digitalocean/database/resource_database_firewall.go), so no Pulumi option reorders this. The way through is
//   `newsletter:databaseTrustedSources open`: this component is then not created, and deleting it writes an empty
//   rule list (resourceDigitalOceanDatabaseFirewallDelete), which opens the cluster as on the first deploy. So:
//   `pulumi config set newsletter:databaseTrustedSources open`, `pulumi up`, replace the app, then set it back to
//   `app` and `pulumi up` again, which admits the new id.
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface DatabaseTrustedSourcesArgs {
  readonly clusterId: pulumi.Input<string>;
  readonly appId: pulumi.Input<string>;
}

export class DatabaseTrustedSources extends pulumi.ComponentResource {
  constructor(name: string, args: DatabaseTrustedSourcesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("newsletter:infra:DatabaseTrustedSources", name, {}, opts);
    // The firewall holds the cluster's whole rule list: this one rule, the app.
    new digitalocean.DatabaseFirewall(
      `${name}-firewall`,
      { clusterId: args.clusterId, rules: [{ type: "app", value: args.appId }] },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

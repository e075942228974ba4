// The cluster's trusted sources: only the app may connect. A rule of type `app` names the app by id
// (terraform-provider-digitalocean #668 added the type; #795 shows its use), and that id exists only after the app's
// first deployment, whose PRE_DEPLOY job already connects (terraform-provider-digitalocean #841). So this component
// is created after the app: during the very first deploy the cluster is still open to TLS connections that present a
// password ("by default, every database cluster is publicly accessible", docs.digitalocean.com/products/databases/
// postgresql/how-to/modify-user-privileges), and every deploy after that runs with the rule in place.
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

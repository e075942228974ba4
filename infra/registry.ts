// The account's DigitalOcean Container Registry. An account has one registry and its name is global ("Container
// Registry Limits", docs.digitalocean.com/products/container-registry/details/limits), so by default a stack only
// looks it up by name: nothing is created, and destroying the stack (a PR preview) can't delete it. With
// `createRegistry`, the stack creates it with `retainOnDelete`, so even that stack's destroy leaves it in place
// (https://www.pulumi.com/docs/iac/concepts/options/retainondelete/).
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface RegistryArgs {
  readonly name: string;
  /** Create the registry instead of referencing an existing one. */
  readonly create: boolean;
  /** Subscription tier when created: starter, basic or professional. */
  readonly tier: string;
}

export class Registry extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;
  /** `registry.digitalocean.com`: where `docker login` goes. */
  readonly serverUrl: pulumi.Output<string>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("newsletter:infra:Registry", name, {}, opts);
    if (args.create) {
      // Created once for the account, then kept: retainOnDelete drops it from the stack, never from DigitalOcean.
      const registry = new digitalocean.ContainerRegistry(
        `${name}-registry`,
        { name: args.name, subscriptionTierSlug: args.tier },
        { parent: this, retainOnDelete: true },
      );
      this.name = registry.name;
      this.serverUrl = registry.serverUrl;
    } else {
      // A lookup (a data source), not a resource: fails early with "not found" if the name is wrong.
      const existing = digitalocean.getContainerRegistryOutput({ name: args.name }, { parent: this });
      this.name = existing.name;
      this.serverUrl = existing.serverUrl;
    }
    this.registerOutputs({ name: this.name, serverUrl: this.serverUrl });
  }
}

// The stack's own DigitalOcean project: every App Platform app and database cluster of the stack is created in it,
// and its description carries the stack's identity (infra/naming.ts, stackIdentity). That is how a leftover of a
// failed teardown is recognised as ours (ops/leftovers.ts): apps take no tags, but they do belong to a project.
// On destroy the project goes last; the provider moves anything still in it to the default project and retries
// until it is empty (terraform-provider-digitalocean digitalocean/project/resource_project.go,
// resourceDigitalOceanProjectDelete).
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

/** DigitalOcean project names: at most 175 characters, unique in the account (openapi, projects/models/project.yml). */
export const PROJECT_NAME_MAX_LENGTH = 175;

/**
 * `project_id` is ForceNew on both digitalocean_database_cluster and digitalocean_app (terraform-provider-digitalocean
 * digitalocean/database/resource_database_cluster.go and digitalocean/app/resource_app.go): a cluster or app made
 * before it was set must keep its project rather than be replaced, which for a cluster would mean its data. New
 * ones are created in the stack's project; move an older one with `doctl projects resources assign`.
 */
export const KEEP_PROJECT: pulumi.CustomResourceOptions = { ignoreChanges: ["projectId"] };

export interface StackProjectArgs {
  readonly name: string;
  /** stackIdentity(project, stack), written into the description. */
  readonly identity: string;
  readonly production: boolean;
}

export class StackProject extends pulumi.ComponentResource {
  readonly id: pulumi.Output<string>;

  constructor(name: string, args: StackProjectArgs, opts?: pulumi.ComponentResourceOptions) {
    super("newsletter:infra:StackProject", name, {}, opts);
    const project = new digitalocean.Project(
      `${name}-project`,
      {
        name: args.name,
        description: `${args.identity} (managed by Pulumi; deleted with its stack)`,
        purpose: "Web Application",
        environment: args.production ? "Production" : "Development",
      },
      { parent: this },
    );
    this.id = project.id;
    this.registerOutputs({ id: this.id });
  }
}

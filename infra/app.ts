// The App Platform app: one digitalocean.App whose spec comes from the pure buildAppSpec (infra/app-spec.ts).
// The spec waits for the pushed image's digest and for the database's names, so the app is created after both.
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { type AppSpecInput, buildAppSpec, type SpecDatabase } from "./app-spec";
import { type AppSettings, NO_APP_SETTINGS } from "./env";
import { KEEP_PROJECT } from "./project";

/**
 * How long the first `pulumi up` waits for the app's first deployment (pull the image, run the PRE_DEPLOY job, pass
 * the health checks, and for a dev database provision it), which can outlast the provider's default of 30 minutes.
 * `digitalocean_app` declares only a create timeout (`Timeouts: Create: schema.DefaultTimeout(30 * time.Minute)`),
 * and an update waits for its deployment with that create timeout (`d.Timeout(schema.TimeoutCreate)` in
 * resourceDigitalOceanAppUpdate; digitalocean/terraform-provider-digitalocean, digitalocean/app/resource_app.go).
 * On an update the engine hands the provider only the resource's `update` timeout, which the bridge drops with
 * "Resource does not support customTimeouts, ignoring: update=..." because the resource has no update slot
 * (pulumi/pulumi-terraform-bridge, pkg/tfshim/sdk-v2/provider2.go, configWithTimeouts). So only `create` is set:
 * the first deploy waits up to this, every later deploy up to the provider's 30 minutes.
 */
export const DEPLOY_TIMEOUT = "60m";

export interface AppPlatformAppArgs extends Omit<AppSpecInput, "image" | "database" | "appSettings"> {
  readonly image: { readonly repository: string; readonly digest: pulumi.Input<string>; readonly version: string };
  readonly database: pulumi.Input<SpecDatabase>;
  /** `appEnv` (plain) and `appSecrets` (stack config): the secrets are made Pulumi secrets here. */
  readonly appSettings?: AppSettings<string>;
  /** The stack's DigitalOcean project, where the app is created (infra/project.ts). */
  readonly projectId?: pulumi.Input<string>;
}

export class AppPlatformApp extends pulumi.ComponentResource {
  readonly id: pulumi.Output<string>;
  /** The app's live URL (its custom domain once that is active, else the ondigitalocean.app one). */
  readonly liveUrl: pulumi.Output<string>;

  constructor(name: string, args: AppPlatformAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("newsletter:infra:AppPlatformApp", name, {}, opts);
    // Secrets make the whole spec a secret in Pulumi's state and output (a spec without them stays readable in
    // previews); see toAppPlatformEnvs in infra/app-spec.ts for how they avoid a permanent diff.
    const settings = args.appSettings ?? NO_APP_SETTINGS;
    const secrets = Object.keys(settings.secrets).length > 0 ? pulumi.secret(settings.secrets) : {};
    const spec = pulumi.all([args.image.digest, args.database, secrets]).apply(([digest, database, plainSecrets]) =>
      buildAppSpec({
        ...args,
        image: { ...args.image, digest },
        database,
        appSettings: { env: settings.env, secrets: plainSecrets },
      }),
    );
    const app = new digitalocean.App(
      `${name}-app`,
      { spec, projectId: args.projectId },
      { parent: this, customTimeouts: { create: DEPLOY_TIMEOUT }, ...KEEP_PROJECT },
    );
    this.id = app.id;
    this.liveUrl = app.liveUrl;
    this.registerOutputs({ id: this.id, liveUrl: this.liveUrl });
  }
}

// Where each stack's state lives and how its secrets are encrypted, decided from the stack and the environment.
//
// - `local`: a file backend inside the repository (`.pulumi-state/`, git-ignored), so `npm run up:local` needs no
//   account anywhere. Its secrets (the generated Postgres password) are encrypted with PULUMI_CONFIG_PASSPHRASE if
//   set, else with LOCAL_PASSPHRASE below: a published default is fine for state that never leaves the machine and
//   protects only a throwaway local database; it keeps the first run free of prompts.
// - `production` and `pr-<n>`: PULUMI_BACKEND_URL, by default a DigitalOcean Spaces bucket through Pulumi's S3
//   backend (see spacesBackendUrl), with the passphrase secrets provider; or Pulumi Cloud when PULUMI_ACCESS_TOKEN is
//   set and no URL is. People who ran `pulumi login` themselves need neither variable outside CI.
import * as path from "node:path";
import { ExitCode, OpsError } from "./errors";
import type { StackRef } from "./stacks";

export const LOCAL_PASSPHRASE = "newsletter-local-only";
export const LOCAL_STATE_DIR = ".pulumi-state";

export function localBackendUrl(repoRoot: string): string {
  return `file://${path.join(repoRoot, LOCAL_STATE_DIR)}`;
}

/**
 * Pulumi's S3 backend pointed at a Spaces bucket. `endpoint` carries the scheme: the AWS SDK v2 based S3 driver
 * newer Pulumi CLIs use takes a full URL, and the older one accepts it too (pulumi/pulumi#24589, #18645; Pulumi's
 * own example, `endpoint=my.minio.local:8080`, is from the v1 driver days:
 * https://www.pulumi.com/docs/iac/guides/basics/using-a-diy-backend/#aws-s3). `region` must be present but Spaces
 * ignores it; `us-east-1` is what DigitalOcean's SDK examples use
 * (https://docs.digitalocean.com/products/spaces/reference/aws-sdks/), and without it the CLI fails with
 * "MissingRegion" (pulumi/docs#11755). Credentials: a Spaces access key as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
 */
export function spacesBackendUrl(input: { bucket: string; region: string; prefix?: string }): string {
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(input.bucket))
    throw new Error(`invalid Spaces bucket name "${input.bucket}"`);
  if (!/^[a-z]{3}[0-9]$/.test(input.region))
    throw new Error(`invalid Spaces region "${input.region}" (e.g. fra1, nyc3)`);
  const where = input.prefix === undefined ? input.bucket : `${input.bucket}/${input.prefix.replace(/^\/+|\/+$/g, "")}`;
  return `s3://${where}?endpoint=https://${input.region}.digitaloceanspaces.com&region=us-east-1`;
}

export interface StackEnvironment {
  /** Extra environment for every Pulumi command (the process environment is passed through as well). */
  readonly envVars: Readonly<Record<string, string>>;
  readonly secretsProvider?: string;
  /** Where the state is, for the log (never contains a secret). */
  readonly backend: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (value: string | undefined): value is string => value !== undefined && value !== "";

function passphraseVars(env: Env, fallback?: string): Record<string, string> | undefined {
  if (set(env.PULUMI_CONFIG_PASSPHRASE)) return { PULUMI_CONFIG_PASSPHRASE: env.PULUMI_CONFIG_PASSPHRASE };
  if (set(env.PULUMI_CONFIG_PASSPHRASE_FILE))
    return { PULUMI_CONFIG_PASSPHRASE_FILE: env.PULUMI_CONFIG_PASSPHRASE_FILE };
  return fallback === undefined ? undefined : { PULUMI_CONFIG_PASSPHRASE: fallback };
}

/**
 * The passphrase provider keeps its salt in Pulumi.<stack>.yaml, which a CI checkout of a PR stack never has (and
 * production's may not): without it Pulumi would mint a new salt and fail to decrypt the state ("incorrect
 * passphrase", pulumi/pulumi#16412). This makes Pulumi take the secrets manager recorded in the stack's state
 * instead (pulumi/pulumi#17236; the opt-in variable is named in pulumi/pulumi#24535).
 */
const STATE_SECRETS_MANAGER = { PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: "true" };

/**
 * The S3 client's checksum mode for an s3:// backend. Since early 2025 aws-sdk-go-v2 uploads with streaming trailer
 * checksums (`content-encoding: aws-chunked`, `x-amz-trailer: x-amz-checksum-crc32`), which S3-compatible stores
 * refuse: IBM COS with a 403 on every state write from CLI 3.248 (pulumi/pulumi#23764; also #23478 from 3.245), and
 * Spaces itself refused aws-sdk-go-v2's checksums before (`XAmzContentSHA256Mismatch`,
 * digitalocean/terraform-provider-digitalocean#1087). `when_required` turns them off. How far each CLI honours it:
 *   - 3.245 to 3.255 (gocloud.dev 0.46) ignore it for uploads, which go through the S3 transfer manager
 *     (google/go-cloud v0.46.0, blob/s3blob/s3blob.go, NewTypedWriter; fixed in go-cloud#3736), so there only a
 *     newer CLI helps; it still stops the response validation that reads warn about;
 *   - 3.256 made it the default for custom endpoints (pulumi/pulumi#24109, pkg/backend/diy/backend.go), and that
 *     broke writes to Cloudflare R2 (pulumi/pulumi#24219), fixed in 3.258 (#24292).
 * So the workflows install 3.258.0 (.pulumi-version), and these variables keep the mode explicit for any CLI a
 * person brings. A value already in the environment wins: R2 users on 3.256 and 3.257 were told to set
 * `when_supported` (pulumi/pulumi#24219).
 */
export function s3ChecksumVars(env: Env): Record<string, string> {
  return {
    AWS_REQUEST_CHECKSUM_CALCULATION: env.AWS_REQUEST_CHECKSUM_CALCULATION || "when_required",
    AWS_RESPONSE_CHECKSUM_VALIDATION: env.AWS_RESPONSE_CHECKSUM_VALIDATION || "when_required",
  };
}

export function stackEnvironment(stack: StackRef, env: Env, repoRoot: string): StackEnvironment {
  const quiet = { PULUMI_SKIP_UPDATE_CHECK: "true" };
  if (stack.kind === "local") {
    // Always the repository's file backend, even when PULUMI_BACKEND_URL points at the shared bucket: local state
    // must never land next to production's.
    const url = localBackendUrl(repoRoot);
    return {
      envVars: { ...quiet, PULUMI_BACKEND_URL: url, ...passphraseVars(env, LOCAL_PASSPHRASE) },
      secretsProvider: "passphrase",
      backend: url,
    };
  }
  const url = env.PULUMI_BACKEND_URL;
  if (!set(url)) {
    if (set(env.PULUMI_ACCESS_TOKEN)) return { envVars: quiet, backend: "Pulumi Cloud" };
    if (set(env.CI)) {
      throw new OpsError(
        `No state backend for stack ${stack.name}: set PULUMI_BACKEND_URL (the Spaces bucket, e.g. ` +
          `${spacesBackendUrl({ bucket: "my-state", region: "fra1" })}) or PULUMI_ACCESS_TOKEN (Pulumi Cloud) in the workflow.`,
        ExitCode.prerequisite,
      );
    }
    return { envVars: quiet, backend: "the backend of your `pulumi login`" };
  }
  if (url.startsWith("https://")) return { envVars: quiet, backend: url }; // a Pulumi Cloud (or self-hosted) URL
  const problems: string[] = [];
  if (url.startsWith("s3://") && !(set(env.AWS_ACCESS_KEY_ID) && set(env.AWS_SECRET_ACCESS_KEY))) {
    problems.push("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a Spaces access key for the state bucket)");
  }
  const passphrase = passphraseVars(env);
  if (passphrase === undefined) problems.push("PULUMI_CONFIG_PASSPHRASE (encrypts the stack's secrets in the state)");
  if (problems.length > 0) {
    throw new OpsError(
      `The state backend ${redact(url)} needs ${problems.join(" and ")}: set them and run this again.`,
      ExitCode.prerequisite,
    );
  }
  return {
    envVars: {
      ...quiet,
      ...passphrase,
      ...STATE_SECRETS_MANAGER,
      ...(url.startsWith("s3://") ? s3ChecksumVars(env) : {}),
    },
    secretsProvider: "passphrase",
    backend: redact(url),
  };
}

/** A backend URL for the log: the postgres:// form can carry a password. */
export function redact(url: string): string {
  return url.replace(/\/\/([^/@:]+):([^/@]+)@/, "//$1:***@");
}

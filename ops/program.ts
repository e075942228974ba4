// The command line: commander parses, commands.ts acts, and every outcome becomes one of the exit codes in
// errors.ts. `runCli` never calls process.exit, so tests run it with fake dependencies and read the code.
import { Command, CommanderError } from "commander";
import * as commands from "./commands";
import { ExitCode, OpsError } from "./errors";
import { DEFAULT_TTL } from "./tags";

const EXIT_CODES_HELP = `
Exit codes:
  0  done (destroy / review down: also when the stack did not exist)
  1  the operation failed (Pulumi, DigitalOcean or GitHub reported an error), or a deploy did not verify:
     the deployment is not ACTIVE with the stack's image, or the live URL does not answer 200 on /health_check
  2  wrong command line (unknown command or option, invalid stack name or PR number); nothing ran
  3  a prerequisite is missing (Pulumi CLI, Docker engine, backend credentials); nothing ran
  4  changes found (drift, or preview --expect-no-changes)
  5  the stack is locked by another update; nothing changed, try again later

Stacks: production, local, pr-<number>.`;

export async function runCli(argv: readonly string[], deps: commands.Deps): Promise<number> {
  let code: number = ExitCode.ok;
  const done = (result: number) => {
    code = result;
  };

  const program = new Command("ops")
    .description("Deploy, preview and clean up the newsletter stacks (Pulumi Automation API).")
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.print(s.trimEnd()), writeErr: (s) => deps.warn(s.trimEnd()) })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", EXIT_CODES_HELP);

  program
    .command("preview")
    .description("show what `up` would change")
    .argument("<stack>", "production, local or pr-<number>")
    .option("--diff", "include the full property diff", false)
    .option("--expect-no-changes", "exit 4 when there are changes", false)
    .option("--summary-file <path>", "write the Markdown summary (the PR comment) here")
    .option("--commit <sha>", "the commit being previewed, for the summary")
    .action(
      async (stack: string, o: { diff: boolean; expectNoChanges: boolean; summaryFile?: string; commit?: string }) =>
        done(await commands.preview(deps, stack, o)),
    );

  program
    .command("up")
    .description(
      "deploy a stack (creates it when missing), then print its URL; on DigitalOcean, verify the deployment " +
        "(image digest, ACTIVE, /health_check) and deploy again when the active deployment is not the stack's",
    )
    .argument("<stack>", "production or local (per-PR stacks: review up)")
    .option("--summary-file <path>", "write a Markdown summary here")
    .action(async (stack: string, o: { summaryFile?: string }) => done(await commands.up(deps, stack, o)));

  program
    .command("rollback")
    .description(
      "return a DigitalOcean stack to an earlier deployment through App Platform's rollback, then verify it; " +
        "App Platform holds the app there (and `up` refuses) until --commit or --revert",
    )
    .argument("<stack>", "production or pr-<number>")
    .option(
      "--to <deployment>",
      "a deployment id, or an image digest sha256:... that an earlier deployment ran (default: the previous " +
        "deployment that served another image)",
    )
    .option("--commit", "keep the current rollback and allow deploys again", false)
    .option("--revert", "undo the current rollback: redeploy the spec from before it", false)
    .option("--summary-file <path>", "also write the Markdown report here (besides $GITHUB_STEP_SUMMARY)")
    .addHelpText(
      "after",
      "\nThe database is not rolled back: migrations only go forward, so the earlier image must work with the\n" +
        "current schema (expand, then contract: see the README).",
    )
    .action(async (stack: string, o: { to?: string; commit: boolean; revert: boolean; summaryFile?: string }) =>
      done(await commands.rollback(deps, stack, o)),
    );

  program
    .command("logs")
    .description("print a component's logs from App Platform (the active deployment, or --deployment)")
    .argument("<stack>", "production or pr-<number>")
    .option("--component <name>", "web (the service) or migrate (the PRE_DEPLOY job)", "web")
    .option("--type <type>", "run, deploy or build", "run")
    .option("--deployment <id>", "a past or in-progress deployment instead of the active one")
    .action(async (stack: string, o: { component: string; type: string; deployment?: string }) =>
      done(await commands.logs(deps, stack, o)),
    );

  program
    .command("destroy")
    .description("delete a stack's resources; a stack that does not exist is already destroyed")
    .argument("<stack>", "production, local or pr-<number>")
    .option("--yes", "confirm (required for every stack but local)", false)
    .option("--remove", "also remove the stack and its tags from the backend", false)
    .action(async (stack: string, o: { yes: boolean; remove: boolean }) =>
      done(await commands.destroy(deps, stack, o)),
    );

  program
    .command("drift")
    .description("compare the state with the cloud (refresh --preview-only); exit 4 on drift")
    .argument("<stack>", "production, local or pr-<number>")
    .option("--report-file <path>", "write the Markdown drift report (the issue body) here when there is drift")
    .action(async (stack: string, o: { reportFile?: string }) => done(await commands.drift(deps, stack, o)));

  const review = program.command("review").description("per-pull-request stacks pr-<number>");
  review
    .command("up")
    .description("create or update stack pr-<number>, tagged with PR, creation time, time to live and commit")
    .argument("<pr>", "pull request number")
    .option("--commit <sha>", "the commit deployed (default: the checkout's HEAD)")
    .option("--ttl <duration>", "time to live without a deploy, e.g. 72h or 7d", DEFAULT_TTL)
    .option("--summary-file <path>", "write the PR comment (URL and estimated cost) here")
    .action(async (pr: string, o: { commit?: string; ttl: string; summaryFile?: string }) =>
      done(await commands.reviewUp(deps, pr, o)),
    );
  review
    .command("down")
    .description(
      "destroy and remove stack pr-<number>, then delete its image tags pr-<number>-*; succeeds when it never existed",
    )
    .argument("<pr>", "pull request number")
    .action(async (pr: string) => done(await commands.reviewDown(deps, pr)));
  review
    .command("reap")
    .description(
      "destroy pr-* stacks (and their image tags) whose PR is closed or whose time to live ran out; find leftovers",
    )
    .option("--open-prs <numbers>", "comma-separated open PR numbers (default: asked from the GitHub API)")
    .option("--dry-run", "decide and report, destroy nothing", false)
    .option(
      "--delete-leftovers",
      "delete DigitalOcean apps, databases and projects that carry the identity of a pr-* stack that is gone",
      false,
    )
    .option(
      "--default-ttl <duration>",
      "for PR stacks without usable tags, counted from their last update",
      DEFAULT_TTL,
    )
    .option("--leftover-min-age <duration>", "never treat younger resources as leftovers", "2h")
    .option("--summary-file <path>", "write the Markdown report here (e.g. $GITHUB_STEP_SUMMARY)")
    .action(async (o: commands.ReapOptions) => done(await commands.reviewReap(deps, o)));

  const github = program.command("github").description("PR comments and issues that are updated in place");
  github
    .command("comment")
    .description("create or update this topic's comment on a PR")
    .argument("<pr>", "pull request number")
    .requiredOption("--topic <topic>", "e.g. preview-production; one comment per topic")
    .option("--body <text>")
    .option("--body-file <path>")
    .action(async (pr: string, o: { topic: string; body?: string; bodyFile?: string }) =>
      done(await commands.githubComment(deps, pr, o)),
    );
  github
    .command("issue")
    .description("open or update this topic's issue, or close it with --close")
    .requiredOption("--topic <topic>", "e.g. drift-production; one open issue per topic")
    .requiredOption("--title <title>")
    .option("--body <text>")
    .option("--body-file <path>")
    .option("--label <label...>", "labels for a new issue", [])
    .option("--close", "close the open issue of this topic, with the body as the closing comment", false)
    .action(
      async (o: { topic: string; title: string; body?: string; bodyFile?: string; label: string[]; close: boolean }) =>
        done(await commands.githubIssue(deps, o)),
    );

  github
    .command("deployment")
    .description("record a deploy of the PR's review environment as the GitHub deployment pr-<number>, or retire it")
    .argument("<pr>", "pull request number")
    .requiredOption("--state <state>", "success or failure (a deploy), inactive (torn down)")
    .option("--commit <sha>", "the deployed commit (default: the checkout's HEAD)")
    .option("--url <url>", "the environment's live URL (with success)")
    .option("--log-url <url>", "the workflow run")
    .action(async (pr: string, o: commands.DeploymentOptions) => done(await commands.githubDeployment(deps, pr, o)));

  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    if (error instanceof OpsError) {
      deps.warn(`error: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
  return code;
}

// Exit codes of the operations CLI (`npm run ops -- ...`). Workflows branch on them, so they are a contract:
// change one only together with the workflows in .github/workflows/ and the README's table.

export const ExitCode = {
  /** The operation finished; for `destroy`/`review down` also when there was nothing to destroy. */
  ok: 0,
  /** Pulumi (or the DigitalOcean / GitHub API) reported an error; the stack may be partly updated. */
  failed: 1,
  /** The command line was wrong: unknown command or option, invalid stack name or PR number. Nothing ran. */
  usage: 2,
  /** A prerequisite is missing (Pulumi CLI, Docker engine, backend credentials). Nothing ran; the message says how to fix it. */
  prerequisite: 3,
  /** `drift` / `preview --expect-no-changes` found changes. Not a failure of the tool: the workflow opens an issue. */
  changes: 4,
  /** Another update holds the stack's lock. Retry later; nothing was changed by this run. */
  locked: 5,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as one line (no stack trace) and turns into an exit code. */
export class OpsError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = "OpsError";
  }
}

export const usageError = (message: string): OpsError => new OpsError(message, ExitCode.usage);

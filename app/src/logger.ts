// Structured JSON logs on stdout, shared by the server (through Fastify) and the migration runner.
import type { DestinationStream, LoggerOptions } from "pino";
import { redact } from "./database";
import type { Settings } from "./settings";

/** Keys that hold secrets wherever they appear in a logged object (pino's redaction, https://getpino.io/#/docs/redaction). */
const REDACTED_PATHS = [
  "password",
  "*.password",
  "*.*.password",
  "database.password",
  "settings.database.password",
  "ca_cert",
  "*.ca_cert",
  "authorization_token",
  "*.authorization_token",
  "*.*.authorization_token",
  "req.headers.authorization",
  "req.headers.cookie",
];

/**
 * pino options for this service. Two layers keep the database password out of every line: redaction of known keys,
 * and a last pass over each serialised line that cuts the password out wherever it appears (a message from a
 * library we don't control, an error's text), in its raw and its JSON-escaped form.
 */
export function loggerOptions(settings: Settings): LoggerOptions {
  return {
    ...redactingOptions(settings.database.password),
    level: "info",
    base: { service: "newsletter", version: settings.application.version },
  };
}

/**
 * The two redaction layers alone, for a logger that has no settings to describe: an entry point whose settings
 * failed to load still knows the password a deployment sets (APP_DATABASE__PASSWORD). No password, no last pass.
 */
export function redactingOptions(password: string | undefined): LoggerOptions {
  const options: LoggerOptions = { redact: { paths: REDACTED_PATHS, censor: "[redacted]" } };
  if (password === undefined || password === "") return options;
  const escaped = JSON.stringify(password).slice(1, -1);
  return { ...options, hooks: { streamWrite: (line) => redact(redact(line, password), escaped) } };
}

export type { DestinationStream };

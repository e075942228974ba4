import { describe, expect, it } from "vitest";
import { buildApp } from "../../../app/src/app";
import { loadSettings } from "../../../app/src/settings";
import { freePort } from "../../support/postgres";
import { CONFIGURATION_DIR } from "../helpers";

describe("GET /health_check", () => {
  it("answers 200 with an empty body while no database is reachable", async () => {
    // Nothing listens on this port: the app must not need the database to say it is alive.
    const env = { APP_DATABASE__PORT: String(await freePort()) };
    const app = buildApp(loadSettings({ dir: CONFIGURATION_DIR, env }), { logLevel: "silent" });
    try {
      const response = await app.inject({ method: "GET", url: "/health_check" });
      expect(response.statusCode).toBe(200);
      expect(response.body).toBe("");
    } finally {
      await app.close();
    }
  });
});

// Baseline for GET /health_check: the same Fastify version with one route that answers an empty 200, no logger, no
// hooks. What the app's health check costs beyond this is what the app adds.
import Fastify from "fastify";
import { baselineSettings } from "./settings";

const { port, host } = baselineSettings().application;
const app = Fastify();
app.get("/health_check", (_request, reply) => {
  reply.code(200).send();
});
// Not top-level await: the baselines are bundled to CommonJS, as the app is.
void app.listen({ port, host });
process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));

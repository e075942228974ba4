// The stand-in `docker` executable (bin/docker): answers from the engine model in $STANDIN_DOCKER_STATE.
import { dockerCli, loadEngine } from "./engine";

const file = process.env.STANDIN_DOCKER_STATE;
if (file === undefined) {
  process.stderr.write("stand-in docker: STANDIN_DOCKER_STATE is not set\n");
  process.exit(1);
}
const answer = dockerCli(loadEngine(file), process.argv.slice(2));
process.stdout.write(answer.stdout);
process.stderr.write(answer.stderr);
process.exitCode = answer.code;

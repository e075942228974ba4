// Loads infra/index.ts the way the Pulumi CLI's Node.js language host does (with Pulumi.yaml's `typescript: true`
// and `tsconfig: infra/tsconfig.json`): the same tsutils of @pulumi/pulumi pick TypeScript and ts-node (the
// project's, else the vendored ts-node 7.0.1), and ts-node is registered with the options of
// @pulumi/pulumi/cmd/run/run.js for a CommonJS project. Run from the repository root; prints `compiled` once the
// program's modules have been compiled, type-checked and evaluated. There is no engine here, so the program's first
// resource registration fails afterwards: that is where the Pulumi CLI would take over.
const path = require("node:path");

const root = process.cwd();
const fromRoot = (id) => require(require.resolve(id, { paths: [root] }));
const semver = fromRoot("semver");
const tsutils = fromRoot("@pulumi/pulumi/tsutils");

const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH;
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const ts = fromRoot(typescriptRequire);
const useNodeNext = semver.parse(ts.version).compare(new semver.SemVer("4.7.0")) >= 0;
fromRoot(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly: compilerOptions.noCheck,
  project: tsConfigPath,
  skipProject: false,
  compilerOptions: {
    target: "ES2020",
    module: useNodeNext ? "nodenext" : "commonjs",
    moduleResolution: useNodeNext ? "nodenext" : "node",
    sourceMap: "true",
    ...compilerOptions,
  },
});
console.log(
  `typescript ${ts.version}, ts-node ${path.relative(root, require.resolve(tsnodeRequire, { paths: [root] }))}`,
);
require(path.resolve(root, process.argv[2]));
console.log("compiled");
// Stop before the program's first call to the (absent) engine is reported.
process.exit(0);

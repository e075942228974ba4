// Stands in for @pulumi/pulumi in `npm run test:mutation` only (vitest.mutation.config.mts): the modules mutated
// there are pure, and infra/config.ts needs the SDK only in loadStackConfig, which no test of that run calls.
// Loading the SDK costs seconds per test file and mutant; anything that does reach it fails loudly here.
function unloaded(): never {
  throw new Error("@pulumi/pulumi is not loaded in the mutation test run (vitest.mutation.config.mts)");
}

export const getProject = unloaded;
export const getStack = unloaded;
export const runtime = { allConfig: unloaded };

// A seeded generator for the tests that try thousands of random inputs: the same seed gives the same inputs on every
// run, so a failing input can be found again. mulberry32 (Tommy Ettinger's 32-bit generator): small, and plenty for
// test inputs.

/** Numbers in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

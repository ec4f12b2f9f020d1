// Cold-start probe 1: an ES module that does nothing. What Node's ESM loader costs over
// `node -e 0` before any code runs.
export {};

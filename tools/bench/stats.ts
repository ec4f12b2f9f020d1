// Order statistics for repeated measurements: the benchmark reports medians (robust to the odd
// slow run on a shared machine) with the interquartile range beside them.

/** The value at fraction `p` (0..1) of the sorted values, interpolating between neighbours. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * p;
  const lower = Math.floor(at);
  const upper = Math.ceil(at);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (at - lower);
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** First quartile, median, third quartile. */
export const quartiles = (values: readonly number[]): [number, number, number] => [
  quantile(values, 0.25),
  quantile(values, 0.5),
  quantile(values, 0.75),
];

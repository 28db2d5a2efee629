// Command-line values of the benchmark tools, checked before any load starts: a typo gives an
// error naming the flag instead of NaN in a loop bound (a run that never ends or measures nothing).

/** `values[name]` (a parseArgs string) as a whole number >= `min`; throws naming `--name` otherwise. */
export function wholeNumberOption(values, name, min = 1) {
  const text = values[name];
  const number = Number(text);
  if (typeof text !== "string" || text.trim() === "" || !Number.isInteger(number) || number < min) {
    throw new Error(`--${name} must be a whole number >= ${min} (got ${JSON.stringify(text)})`);
  }
  return number;
}

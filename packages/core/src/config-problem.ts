/**
 * One thing wrong with configuration given to detour (an alias table, limits), named by its
 * place in that configuration so a config file loader can point at it.
 */
export interface ConfigProblem {
  /** Where, from the options' root: `["aliases", 0, "header"]`. */
  readonly path: readonly (string | number)[];
  /**
   * What is wrong and what to do, written to follow the path:
   * `'x-detour-token' is one of detour's own headers: remove this alias`.
   */
  readonly message: string;
}

/** `aliases[0].header`: a path as a person writes it. */
export function configPath(path: readonly (string | number)[]): string {
  let text = "";
  for (const part of path) text += typeof part === "number" ? `[${part}]` : text.length === 0 ? part : `.${part}`;
  return text;
}

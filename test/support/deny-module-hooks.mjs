// Module customization hooks of deny-module.mjs (they run on the loader's thread).
let denied = [];

export function initialize(data) {
  denied = data.denied;
}

export async function resolve(specifier, context, nextResolve) {
  if (denied.some((name) => specifier === name || specifier.startsWith(`${name}/`))) {
    throw new Error(`import of '${specifier}' denied by the test`);
  }
  return nextResolve(specifier, context);
}

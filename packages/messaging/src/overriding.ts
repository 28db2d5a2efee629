/**
 * `target` with some members replaced: a Proxy that answers `members[name]` for the names given
 * and the target's own members otherwise, its methods bound to the target (so private fields and
 * `this` keep working). How detour wraps a client object (a channel, a connection, a message)
 * without copying it or touching the original.
 */
export function overriding<T extends object>(target: T, members: Readonly<Partial<Record<PropertyKey, unknown>>>): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (Object.hasOwn(members, property)) return members[property];
      const value: unknown = Reflect.get(object, property, receiver);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}

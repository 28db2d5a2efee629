/*
 * Envoy's matching API around an HTTP filter (`ExtensionWithMatcher`): the filter is skipped for
 * a request the predicate matches, decided on the request headers before the filter sees them.
 * Where detour does not own the routes (an Istio sidecar or gateway), this keeps the skip path
 * that route-level `FilterConfig{disabled}` gives the generated bootstraps.
 */

type Json = Record<string, unknown>;

/** A route `HeaderMatcher` as sidecar-routes.ts writes carrier matchers: present, or a string match. */
export interface HeaderMatcherJson {
  readonly name: string;
  readonly present_match?: boolean;
  readonly string_match?: Readonly<Record<string, unknown>>;
}

/** One predicate of the matching API (`xds.type.matcher.v3.Matcher.MatcherList.Predicate`). */
export type Predicate = Json;

/**
 * The same test as a route HeaderMatcher, as a predicate on the request header. The input is
 * every value of the header joined by ',', so `contains` sees repeated lines too. A missing header
 * never matches; "present" is a regex that matches any value, the empty one included (the
 * matching API has no presence matcher, and an empty prefix is not allowed).
 */
export function headerPredicate(matcher: HeaderMatcherJson): Predicate {
  const valueMatch = matcher.present_match === true ? { safe_regex: { google_re2: {}, regex: ".*" } } : { ...matcher.string_match };
  return {
    single_predicate: {
      input: {
        name: "request-headers",
        typed_config: { "@type": "type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput", header_name: matcher.name },
      },
      value_match: valueMatch,
    },
  };
}

/** True when any of `predicates` is. */
export function anyOf(predicates: readonly Predicate[]): Predicate {
  return predicates.length === 1 ? predicates[0]! : { or_matcher: { predicate: [...predicates] } };
}

export function not(predicate: Predicate): Predicate {
  return { not_matcher: predicate };
}

/**
 * `filter` (an HttpFilter: name + typed_config) wrapped so that it is skipped whenever one of
 * `skipWhen` matches, and runs otherwise. The wrapper keeps the filter's name, so an EnvoyFilter
 * can still find it by name.
 */
export function skipFilterWhen(filter: { name: string; typed_config: Json }, skipWhen: readonly Predicate[]): Json {
  return {
    name: filter.name,
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.common.matching.v3.ExtensionWithMatcher",
      extension_config: filter,
      xds_matcher: {
        matcher_list: {
          matchers: skipWhen.map((predicate) => ({
            predicate,
            on_match: {
              action: { name: "skip", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.common.matcher.action.v3.SkipFilter" } },
            },
          })),
        },
      },
    },
  };
}

/** True when the request's query string has parameter `name` (any value). */
export function queryParameterPredicate(name: string): Predicate {
  return {
    single_predicate: {
      input: {
        name: "query-parameter",
        typed_config: { "@type": "type.googleapis.com/envoy.type.matcher.v3.HttpRequestQueryParamMatchInput", query_param: name },
      },
      value_match: { safe_regex: { google_re2: {}, regex: ".*" } },
    },
  };
}

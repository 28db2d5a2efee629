/*
 * An HTTP filter that exists only for the requests a predicate on their headers matches: Envoy's
 * composite filter under the matching API (`ExtensionWithMatcher`). Where detour does not own
 * the routes (an Istio sidecar or gateway), this keeps the skip path that route-level
 * `FilterConfig{disabled}` gives the generated bootstraps: a request without a carrier never
 * gets an ext_proc filter, so it costs neither a gRPC call nor the filter's creation.
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

export function allOf(predicates: readonly Predicate[]): Predicate {
  return predicates.length === 1 ? predicates[0]! : { and_matcher: { predicate: [...predicates] } };
}

/**
 * `filter` (an HttpFilter: name + typed_config) created and run only for requests `when`
 * matches; for every other request Envoy's composite filter stands in its place and does
 * nothing. The wrapper takes the filter's name, so an EnvoyFilter can still find it by name.
 *
 * Not `ExtensionWithMatcher` + `SkipFilter` around the filter itself: that creates the filter
 * on every request and only skips calling it, which for ext_proc costs Envoy about as much CPU
 * as `ExtProcPerRoute{disabled}` did (bench/skip-ablation.mjs, Istio rows in bench/README.md).
 */
export function filterOnlyWhen(filter: { name: string; typed_config: Json }, when: Predicate): Json {
  return {
    name: filter.name,
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.common.matching.v3.ExtensionWithMatcher",
      extension_config: { name: "composite", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.composite.v3.Composite" } },
      xds_matcher: {
        matcher_list: {
          matchers: [
            {
              predicate: when,
              on_match: {
                action: {
                  name: "composite-action",
                  typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.composite.v3.ExecuteFilterAction", typed_config: filter },
                },
              },
            },
          ],
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

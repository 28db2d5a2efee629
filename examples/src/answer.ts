/**
 * What every demo service answers: its own name and version, and the answers of the services
 * it called, so one response shows which version served each hop of the call chain.
 */
export interface Answer {
  readonly service: string;
  readonly version: string;
  readonly calls: readonly Call[];
}

/** A call that did not produce an answer (a rejected override, a peer that is down). */
export interface CallFailure {
  readonly service: string;
  /** HTTP status when the peer (or its sidecar) answered, absent when the call itself failed. */
  readonly status?: number;
  readonly error: string;
}

export type Call = Answer | CallFailure;

export function isAnswer(call: Call): call is Answer {
  return "version" in call;
}

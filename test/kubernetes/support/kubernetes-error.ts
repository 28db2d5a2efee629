import { ApiException } from "@kubernetes/client-node";

/** What the API server said about a refused request, in the shape of its Status object. */
export interface KubernetesRefusal {
  /** HTTP status: 403 forbidden, 422 invalid, 409 conflict, ... */
  readonly code: number;
  /** Status reason: Forbidden, Invalid, BadRequest, Conflict, ... */
  readonly reason: string;
  /** The server's own sentence, which names the object, the field and the rule. */
  readonly message: string;
}

/**
 * The API server's explanation of a failed call made with `@kubernetes/client-node`, for
 * assertions and error messages (the client's own error text is the raw response dump).
 * Errors that are not API responses (a refused connection) come back as code 0.
 */
export function kubernetesRefusal(error: unknown): KubernetesRefusal {
  if (error instanceof ApiException) {
    const body = parsedBody(error.body);
    if (typeof body === "object" && body !== null) {
      const status = body as { reason?: unknown; message?: unknown };
      return { code: error.code, reason: String(status.reason ?? ""), message: String(status.message ?? "") };
    }
    return { code: error.code, reason: "", message: String(body ?? "") };
  }
  return { code: 0, reason: "", message: error instanceof Error ? error.message : String(error) };
}

/** The client hands over the Status as parsed JSON or, for some calls, as its JSON text. */
function parsedBody(body: unknown): unknown {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/** Runs `call` and returns the refusal it ends in; fails when the call succeeds. */
export async function refusalOf(call: () => Promise<unknown>): Promise<KubernetesRefusal> {
  try {
    await call();
  } catch (error) {
    return kubernetesRefusal(error);
  }
  throw new Error("the API server accepted a request that should have been refused");
}

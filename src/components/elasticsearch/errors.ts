/**
 * Elasticsearch's REST error bodies. Two shapes exist (server/.../rest/RestController.java and
 * RestResponse.java in elastic/elasticsearch): an exception becomes
 * `{"error":{"root_cause":[...],"type":...,"reason":...,...},"status":N}`, while the controller's own
 * refusals (no handler, wrong method, wrong content type) are "simple" errors: a string under
 * `error`, with `status` except for the no-handler 400.
 */
export interface Reply {
  readonly status: number;
  /** undefined: no body (HEAD, or a 200 with nothing to say). */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string | string[]>>;
}

export type Cause = { readonly type: string; readonly reason: string } & Record<string, unknown>;

/** An ElasticsearchException rendered as RestResponse does (root_cause holds the cause itself here, as nothing wraps it). */
export function exception(status: number, cause: Cause, headers?: Record<string, string | string[]>): Reply {
  return { status, body: { error: { root_cause: [cause], ...cause }, status }, ...(headers ? { headers } : {}) };
}

/** RestController.handleBadRequest: the one error body without a `status` field. */
export function noHandler(uri: string, method: string): Reply {
  return { status: 400, body: { error: `no handler found for uri [${uri}] and method [${method}]` } };
}

/** RestController.handleUnsupportedHttpMethod: 405 with an Allow header. */
export function methodNotAllowed(uri: string, method: string, allowed: readonly string[]): Reply {
  return {
    status: 405,
    body: { error: `Incorrect HTTP method for uri [${uri}] and method [${method}], allowed: [${allowed.join(', ')}]`, status: 405 },
    headers: { allow: allowed.join(',') },
  };
}

/** RestController.tryAllHandlers: a path parameter RestUtils cannot decode is answered as an unsupported method, with the exception's words. */
export function undecodablePath(message: string, allowed: readonly string[]): Reply {
  return {
    status: 405,
    body: { error: `${message}, allowed: [${allowed.join(', ')}]`, status: 405 },
    headers: { allow: allowed.join(',') },
  };
}

/** RestController.sendContentTypeErrorMessage: browsers' CORS-safelisted types are refused, as is a body without a type. */
export function contentTypeRefused(contentType: string | undefined): Reply {
  const error = contentType === undefined ? 'Content-Type header is missing' : `Content-Type header [${contentType}] is not supported`;
  return { status: 406, body: { error, status: 406 } };
}

export function indexNotFound(index: string): Reply {
  return exception(404, {
    type: 'index_not_found_exception', reason: `no such index [${index}]`,
    'resource.type': 'index_or_alias', 'resource.id': index, index_uuid: '_na_', index,
  });
}

/**
 * RestRequest.BadParameterException wrapping RestUtils' IllegalArgumentException, as
 * ElasticsearchException.generateFailureXContent renders an exception that is not Elasticsearch's
 * own: its root cause is itself (unwrapCause stops there), its reason Java's `cause.toString()`,
 * and the cause follows under `caused_by`.
 */
export function badParameter(message: string): Reply {
  const outer = { type: 'bad_parameter_exception', reason: `java.lang.IllegalArgumentException: ${message}` };
  return {
    status: 400,
    body: { error: { root_cause: [outer], ...outer, caused_by: { type: 'illegal_argument_exception', reason: message } }, status: 400 },
  };
}

export function illegalArgument(reason: string): Reply {
  return exception(400, { type: 'illegal_argument_exception', reason });
}

/** ActionRequestValidationException's reason: `Validation Failed: 1: ...;2: ...;`. */
export function validationFailed(...problems: string[]): Reply {
  return exception(400, { type: 'action_request_validation_exception', reason: `Validation Failed: ${problems.map((p, i) => `${i + 1}: ${p};`).join('')}` });
}

export function parsingException(reason: string): Reply {
  return exception(400, { type: 'parsing_exception', reason });
}

/** The JSON body of a request, or the x_content_parse_exception ES answers for one that is not JSON. */
export function parseBody(body: string): { value: Record<string, unknown> } | { reply: Reply } {
  if (body.trim() === '') return { value: {} };
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { value: value as Record<string, unknown> };
  } catch {
    // Falls through to the parse error below.
  }
  return { reply: exception(400, { type: 'x_content_parse_exception', reason: '[1:1] Unexpected character: the request body is not a JSON object' }) };
}

// `http` steps: one request to a host on the allowlist (`settings.http_allowed_hosts` in
// workflows.yaml, read when the request is made, so removing a host takes effect at once). The
// response is recorded: status, content type and body (JSON when the server says so, else text).
import { hostAllowed } from './compile.js';

/** One request of an http step, as rendered. */
export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** The recorded response. */
export interface HttpResponse {
  readonly status: number;
  readonly content_type: string | null;
  readonly body: unknown;
}

/** The longest body kept in the history; longer ones fail the step. */
const MAX_BODY = 1024 * 1024;

/** An error of an http step, with the code error_handling matches (`E_HTTP`, `E_TIMEOUT`, `E_POLICY_DENIED`). */
export class HttpStepError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'HttpStepError';
  }
}

/** Sends the request; a status outside 200–299 fails with `E_HTTP`, naming the status. */
export async function httpCall(
  req: HttpRequest,
  allowed: readonly string[],
  signal: AbortSignal,
): Promise<HttpResponse> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new HttpStepError(`'${req.url}' is not a URL`, 'E_INPUT_INVALID');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HttpStepError(`only http and https URLs are allowed, not ${url.protocol}`, 'E_POLICY_DENIED');
  }
  if (!hostAllowed(url.hostname.toLowerCase(), allowed)) {
    throw new HttpStepError(
      `host '${url.hostname}' is not in settings.http_allowed_hosts (allowed: ${allowed.join(', ') || 'none'})`,
      'E_POLICY_DENIED',
    );
  }
  const json = req.body !== undefined && typeof req.body !== 'string';
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method,
      headers: { ...(json ? { 'content-type': 'application/json' } : {}), ...req.headers },
      ...(req.body === undefined ? {} : { body: json ? JSON.stringify(req.body) : (req.body as string) }),
      signal,
      redirect: 'manual',
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new HttpStepError(
      `${req.method} ${url.origin}${url.pathname}: ${(err as Error).message}`,
      'E_HTTP',
    );
  }
  const text = await res.text();
  if (text.length > MAX_BODY) {
    throw new HttpStepError(
      `${req.method} ${url.origin}${url.pathname}: the response body is over 1 MiB`,
      'E_HTTP',
    );
  }
  const type = res.headers.get('content-type');
  let body: unknown = text;
  if (type?.includes('json') && text) {
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      throw new HttpStepError(
        `${req.method} ${url.origin}${url.pathname}: the response says JSON but is not`,
        'E_HTTP',
      );
    }
  }
  if (res.status < 200 || res.status > 299) {
    throw new HttpStepError(`${req.method} ${url.origin}${url.pathname} answered ${res.status}`, 'E_HTTP');
  }
  return { status: res.status, content_type: type, body };
}

export type TGraphQLError = { message: string; extensions?: { code?: string; issues?: Array<{ path: string; message: string }> } };
export type TGraphQLResult<T> = { data?: T | null; errors?: TGraphQLError[]; status?: number };

/** A transport failure worth retrying: the network, a 5xx, a 429. */
export class RetryableError extends Error {
  constructor(message: string, readonly retryAfterMs: number | null = null) {
    super(message);
  }
}

export type TTransportOptions = { apiUrl: string; publicKey: string; fetch: typeof fetch };

const CACHE_LIMIT = 50;

/**
 * GraphQL over HTTP with fetch. Query answers are kept by variables with their ETag, and asked for
 * with If-None-Match: an unchanged answer costs a 304 with no body.
 */
export class Transport {
  private readonly answers = new Map<string, { etag: string; result: unknown }>();

  constructor(private readonly options: TTransportOptions) {}

  async query<T>(document: string, variables: Record<string, unknown>): Promise<TGraphQLResult<T>> {
    const cacheKey = JSON.stringify(variables);
    const cached = this.answers.get(cacheKey);
    const response = await this.send(document, variables, cached ? { 'if-none-match': cached.etag } : {});
    if (response.status === 304 && cached) {
      // Most recently used last, so the oldest answer is the one dropped at the limit.
      this.answers.delete(cacheKey);
      this.answers.set(cacheKey, cached);
      return cached.result as TGraphQLResult<T>;
    }
    const result = await this.read<T>(response);
    const etag = response.headers.get('etag');
    if (etag && !result.errors) {
      this.answers.delete(cacheKey);
      this.answers.set(cacheKey, { etag, result });
      if (this.answers.size > CACHE_LIMIT) this.answers.delete(this.answers.keys().next().value as string);
    }
    return result;
  }

  async mutate<T>(document: string, variables: Record<string, unknown>, keepalive = false): Promise<TGraphQLResult<T>> {
    return this.read<T>(await this.send(document, variables, {}, keepalive));
  }

  private async send(document: string, variables: Record<string, unknown>, headers: Record<string, string>, keepalive = false): Promise<Response> {
    let response: Response;
    try {
      response = await this.options.fetch(this.options.apiUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.publicKey}`, ...headers },
        body: JSON.stringify({ query: document, variables }),
        keepalive,
      });
    } catch (error) {
      throw new RetryableError(`Doorstep is unreachable: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (response.status === 429 || response.status >= 500) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new RetryableError(`Doorstep answered ${response.status}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null);
    }
    return response;
  }

  private async read<T>(response: Response): Promise<TGraphQLResult<T>> {
    try {
      return { ...((await response.json()) as TGraphQLResult<T>), status: response.status };
    } catch {
      throw new RetryableError(`Doorstep answered ${response.status} without a GraphQL result`);
    }
  }
}

// The slice of `fetch` the API clients use, so tests can hand them a recorded conversation instead of a network.
export interface HttpResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  json(): Promise<unknown>;
  text(): Promise<string>;
}

export type Fetch = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<HttpResponse>;

export const globalFetch: Fetch = (url, init) => fetch(url, init);

// Requests to the public REST API (/api/v1), and what their failures mean in plain words.

const TOKEN_KEY = 'sales-analytics.token';

/** The bearer token the user typed: kept for this tab only (sessionStorage), never in the URL or localStorage. */
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value) => (value ? sessionStorage.setItem(TOKEN_KEY, value) : sessionStorage.removeItem(TOKEN_KEY)),
};

export class ApiError extends Error {
  constructor(message, status, problem) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

/** An API path with its query; empty values are left out, so a filter not chosen is not sent. */
export function apiUrl(path, query = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return `/api/v1${path}${text ? `?${text}` : ''}`;
}

function plainWords(status, problem) {
  const detail = problem?.detail ? ` (${problem.detail})` : '';
  if (status === 503) return 'The database is not ready: it may be starting or restarting. Try again in a few seconds.';
  if (status === 401) return 'The server asks for a token: enter it under "Refresh now" and try again.';
  if (status === 400) return `The API refused this request${detail}.`;
  if (status === 404) return `The API has no such resource${detail}.`;
  if (status === 409) return `A refresh is already running${detail}.`;
  return `The API answered with an error ${status}${detail}.`;
}

/** GET or POST JSON; throws an ApiError whose message can be shown as it is. */
export async function request(path, query, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token.get()) headers.Authorization = `Bearer ${token.get()}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(apiUrl(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('The API does not answer: the server may be stopped or unreachable. Try again once it is running.', 0);
  }
  const answer = await response.json().catch(() => undefined);
  if (!response.ok) throw new ApiError(plainWords(response.status, answer), response.status, answer);
  return answer;
}

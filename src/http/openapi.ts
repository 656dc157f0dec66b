// The OpenAPI 3.1 document, generated from the operation declarations and the schemas in schemas/: every
// status and header each operation can answer, from the same declarations the router, ajv and the handlers
// use. Linted clean by Spectral and Redocly, and a Prism proxy judges the HTTP tests' traffic against it.
import { problem } from '../../schemas/common.js';
import { acceptedTokens } from './auth.js';
import { type HeaderName, type Operation, type OtherAnswer, pathParameterNames, TAGS } from './operation.js';

const PROBLEM_CONTENT = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

/** The headers the document declares; `sometimes`: not on every answer that declares it (a CSV's, not a JSON's). */
const HEADERS: Record<
  HeaderName | 'X-Request-Id' | 'WWW-Authenticate' | 'Retry-After',
  { description: string; sometimes?: true }
> = {
  'X-Request-Id': { description: "The request's id in the server's log: the client's own X-Request-Id when it sent one." },
  ETag: { description: "Strong validator: the answer's data version, then a hash of its query and representation." },
  'Data-Version': { description: 'The data version the answer was computed from (each load that changes the data adds one).' },
  'Cache-Control': { description: '`no-cache`: a cache may keep the answer, and revalidates it with If-None-Match.' },
  Location: { description: 'The run: /api/v1/refreshes/{id}.' },
  'Content-Disposition': { description: 'A CSV answer: `attachment` with a file name.', sometimes: true },
  Vary: { description: '`Accept`: the representation depends on it.' },
  'WWW-Authenticate': { description: '`Bearer realm="sales-analytics"`.' },
  'Retry-After': { description: 'Seconds to wait before trying again.' },
};

const headerRefs = (names: string[]) =>
  Object.fromEntries(['X-Request-Id', ...names].map((name) => [name, { $ref: `#/components/headers/${name}` }]));

/** What any operation may answer besides its own: shared, so each appears once in the document. */
const COMMON_RESPONSES = {
  NotAcceptable: { description: 'The Accept header allows none of the representations.', headers: headerRefs([]) },
  Unauthorized: { description: 'Missing or wrong bearer token.', headers: headerRefs(['WWW-Authenticate']) },
  MisdirectedRequest: {
    description: 'A Host this server does not answer (ALLOWED_HOSTS): a defence against DNS rebinding.',
    headers: headerRefs([]),
  },
  ServerError: { description: "The server failed; the log has the cause under the answer's requestId.", headers: headerRefs([]) },
  Unavailable: {
    description: 'The database does not answer, or the analytics snapshot is being built: try again later.',
    headers: headerRefs(['Retry-After']),
  },
};

function parametersOf(operation: Operation): unknown[] {
  const pathNames = pathParameterNames(operation.path);
  return Object.entries(operation.parameters?.properties ?? {}).map(([name, schema]) => ({
    name,
    in: pathNames.includes(name) ? 'path' : 'query',
    required: pathNames.includes(name) || operation.parameters?.required?.includes(name) || undefined,
    description: schema.description,
    schema,
  }));
}

/** One security requirement per accepted token (any one will do); none for an open operation. */
const securityOf = (operation: Operation, apiTokenSet: boolean) =>
  acceptedTokens(operation.access, apiTokenSet).map((name) => ({ [name]: [] }));

const problemAnswer = (answer: OtherAnswer) => {
  const { description, headers } = typeof answer === 'string' ? { description: answer, headers: [] } : answer;
  return { description, headers: headerRefs(headers), content: PROBLEM_CONTENT };
};

const commonRef = (name: keyof typeof COMMON_RESPONSES) => ({ $ref: `#/components/responses/${name}` });

function responsesOf(operation: Operation, secured: boolean): Record<string, unknown> {
  const { status, description, schema, example, headers = [] } = operation.response;
  const content: Record<string, unknown> = { 'application/json': { schema, ...(example === undefined ? {} : { example }) } };
  if (operation.csv) content['text/csv'] = { schema: { type: 'string' } };
  const successHeaders = [...headers, ...(operation.csv ? (['Content-Disposition', 'Vary'] as const) : [])];
  const responses: Record<string, unknown> = { [status]: { description, headers: headerRefs(successHeaders), content } };
  if (operation.conditional) {
    responses[304] = {
      description: 'Not modified: If-None-Match matches the answer this request would get.',
      headers: headerRefs(headers),
    };
  }
  responses[400] = problemAnswer('Invalid parameters, one entry each.');
  if (secured) responses[401] = commonRef('Unauthorized');
  responses[406] = commonRef('NotAcceptable');
  responses[421] = commonRef('MisdirectedRequest');
  for (const [code, answer] of Object.entries(operation.errors ?? {})) responses[code] = problemAnswer(answer);
  responses[500] = commonRef('ServerError');
  responses[503] = commonRef('Unavailable');
  return responses;
}

export function openApiDocument(
  operations: Operation[],
  info: { version: string; apiTokenSet: boolean },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const security = securityOf(operation, info.apiTokenSet);
    paths[operation.path] ??= {};
    paths[operation.path][operation.method] = {
      operationId: operation.operationId,
      tags: [operation.tag],
      summary: operation.summary,
      ...(operation.description ? { description: operation.description } : {}),
      parameters: parametersOf(operation),
      ...(operation.requestBody ? { requestBody: operation.requestBody } : {}),
      // An open operation says so: no security requirement, rather than none stated.
      security,
      responses: responsesOf(operation, security.length > 0),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'sales-analytics',
      version: info.version,
      description:
        'Revenue, product and customer analytics over a normalized sales database, and its refreshes. Every answer also carries security headers (Content-Security-Policy, X-Content-Type-Options and the like).',
      contact: { name: 'sales-analytics maintainers' },
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'The server that serves this document.' }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: { Problem: problem },
      headers: Object.fromEntries(
        Object.entries(HEADERS).map(([name, { description, sometimes }]) => [
          name,
          { description, required: !sometimes, schema: { type: 'string' } },
        ]),
      ),
      responses: Object.fromEntries(
        Object.entries(COMMON_RESPONSES).map(([name, response]) => [name, { ...response, content: PROBLEM_CONTENT }]),
      ),
      securitySchemes: {
        REFRESH_TOKEN: { type: 'http', scheme: 'bearer', description: 'Starts refreshes, reads rejected rows, reads all.' },
        ...(info.apiTokenSet
          ? { API_TOKEN: { type: 'http', scheme: 'bearer', description: 'Reads the API, except rejected rows.' } }
          : {}),
      },
    },
  };
}

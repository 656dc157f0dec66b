// The OpenAPI 3.1 document, generated from the operation declarations and the schemas in schemas/.
import { problem } from '../../schemas/common.js';
import { acceptedTokens } from './auth.js';
import { type Operation, pathParameterNames } from './operation.js';

const PROBLEM_RESPONSE = { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };

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

function responsesOf(operation: Operation, secured: boolean): Record<string, unknown> {
  const { status, description, schema, example } = operation.response;
  const content: Record<string, unknown> = { 'application/json': { schema, ...(example === undefined ? {} : { example }) } };
  if (operation.csv) content['text/csv'] = { schema: { type: 'string' } };
  const responses: Record<string, unknown> = { [status]: { description, content } };
  const errors: Record<number, string> = { 400: 'Invalid parameters, one entry each.' };
  if (secured) errors[401] = 'Missing or wrong bearer token.';
  errors[406] = operation.csv ? 'Accept allows neither JSON nor CSV.' : 'Accept does not allow JSON.';
  Object.assign(errors, operation.errors);
  for (const [code, text] of Object.entries(errors)) responses[code] = { description: text, ...PROBLEM_RESPONSE };
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
      ...(security.length > 0 ? { security } : {}),
      responses: responsesOf(operation, security.length > 0),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'sales-analytics',
      version: info.version,
      description: 'Revenue, product and customer analytics over a normalized sales database, and its refreshes.',
    },
    paths,
    components: {
      schemas: { Problem: problem },
      securitySchemes: {
        REFRESH_TOKEN: { type: 'http', scheme: 'bearer', description: 'Starts refreshes, reads rejected rows, reads all.' },
        ...(info.apiTokenSet
          ? { API_TOKEN: { type: 'http', scheme: 'bearer', description: 'Reads the API, except rejected rows.' } }
          : {}),
      },
    },
  };
}

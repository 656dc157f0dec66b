// The operations of the served OpenAPI document, flattened: what the parameter tests walk through.
export interface Parameter {
  name: string;
  in: 'path' | 'query';
  description?: string;
  schema: {
    type?: string;
    format?: string;
    enum?: string[];
    minimum?: number;
    maximum?: number;
    minLength?: number;
    default?: unknown;
    description?: string;
  };
}

export interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
}

export async function documentedOperations(baseUrl: string): Promise<Operation[]> {
  const document = await (await fetch(`${baseUrl}/api/v1/openapi.json`)).json();
  return Object.entries(document.paths as Record<string, Record<string, { parameters: Parameter[] }>>).flatMap(
    ([route, methods]) => Object.entries(methods).map(([method, operation]) => ({ method, path: route, ...operation })),
  );
}

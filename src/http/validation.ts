// Request validation with ajv against the schemas in schemas/ (the same objects the OpenAPI document shows).
// Every bad parameter becomes one invalid-params entry: unknown names (a typo such as `form=`), repeated
// names, and values the schema refuses.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Context } from 'koa';
import { type InvalidParam, invalidParams } from './problem.js';

export interface ObjectSchema {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required?: readonly string[];
  additionalProperties?: boolean;
}

const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true, strictTypes: false });
addFormats.default(ajv, ['date', 'date-time']);
// OpenAPI keywords that ajv need not act on.
ajv.addVocabulary(['example']);

const compiled = new WeakMap<object, ValidateFunction>();

function validatorOf(schema: ObjectSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile({ additionalProperties: false, ...schema });
    compiled.set(schema, validate);
  }
  return validate;
}

function reasonOf(error: ErrorObject): string {
  switch (error.keyword) {
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    case 'format':
      return error.params.format === 'date' ? 'must be a real date written YYYY-MM-DD' : `must be a ${error.params.format}`;
    case 'type':
      return `must be ${error.params.type === 'integer' ? 'a whole number' : `a ${error.params.type}`}`;
    default:
      return error.message ?? 'is invalid';
  }
}

function nameOf(error: ErrorObject, prefix: string): string {
  if (error.keyword === 'additionalProperties') return prefix + String(error.params.additionalProperty);
  if (error.keyword === 'required') return prefix + String(error.params.missingProperty);
  return prefix + error.instancePath.slice(1).replaceAll('/', '.');
}

function reasonFor(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return 'unknown parameter';
  if (error.keyword === 'required') return 'is required';
  return reasonOf(error);
}

/** Validates (and coerces, and fills defaults into) `value`; returns one entry per bad parameter. */
export function check(schema: ObjectSchema, value: Record<string, unknown>, prefix = ''): InvalidParam[] {
  const validate = validatorOf(schema);
  if (validate(value)) return [];
  const seen = new Map<string, InvalidParam>();
  for (const error of validate.errors ?? []) {
    const name = nameOf(error, prefix);
    if (!seen.has(name)) seen.set(name, { name, reason: reasonFor(error) });
  }
  return [...seen.values()];
}

/** The query string as one value per name; a name given twice is a bad parameter. */
function queryOf(ctx: Context): { query: Record<string, string>; repeated: InvalidParam[] } {
  const query: Record<string, string> = {};
  const repeated: InvalidParam[] = [];
  for (const [name, value] of new URLSearchParams(ctx.querystring)) {
    if (Object.hasOwn(query, name)) {
      if (!repeated.some((param) => param.name === name)) repeated.push({ name, reason: 'given more than once' });
    } else query[name] = value;
  }
  return { query, repeated };
}

/** The request's query, validated against `schema`, typed; throws a 400 listing every bad parameter. */
export function validQuery<T>(ctx: Context, schema: ObjectSchema, pathParams: Record<string, string> = {}): T {
  const { query, repeated } = queryOf(ctx);
  const value: Record<string, unknown> = { ...query, ...pathParams };
  const errors = check(schema, value).filter((error) => !repeated.some((param) => param.name === error.name));
  if (repeated.length + errors.length > 0) throw invalidParams([...repeated, ...errors]);
  return value as T;
}

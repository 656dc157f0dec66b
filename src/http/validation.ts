// Request validation with ajv against the schemas in schemas/ (the same objects the OpenAPI document shows).
// Every bad parameter becomes one invalid-params entry: unknown names (a typo such as `form=`, or
// `__proto__`), repeated names, NUL characters (PostgreSQL text cannot hold them), integers not written as
// plain digits (ajv alone would coerce `1e2` to 100), and values the schema refuses.
import { Ajv, type ErrorObject, type FormatDefinition, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { Context } from 'koa';
import { type InvalidParam, invalidParams } from './problem.js';

export interface ObjectSchema {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required?: readonly string[];
  additionalProperties?: boolean;
}

const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true, strictTypes: false });
addFormats.default(ajv, ['date-time']);
// RFC 3339 full-date, without year 0000: the calendar has none, and PostgreSQL refuses it.
const calendarDate = fullFormats.date as FormatDefinition<string>;
ajv.addFormat('date', {
  type: 'string',
  validate: (day: string) => (calendarDate.validate as (day: string) => boolean)(day) && !day.startsWith('0000'),
  compare: calendarDate.compare,
});
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

const DATE_REASON = 'must be a real date written YYYY-MM-DD (0001-01-01 to 9999-12-31)';
const WHOLE_NUMBER_REASON = 'a whole number written in digits';

function reasonOf(error: ErrorObject): string {
  switch (error.keyword) {
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    case 'format':
      return error.params.format === 'date' ? DATE_REASON : `must be a ${error.params.format}`;
    case 'type':
      return `must be ${error.params.type === 'integer' ? WHOLE_NUMBER_REASON : `a ${error.params.type}`}`;
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

/**
 * The query string as one value per name; a name given twice is a bad parameter. The record has no
 * prototype, so `__proto__=x` is a parameter like any other (and an unknown one).
 */
function queryOf(ctx: Context): { query: Record<string, string>; repeated: InvalidParam[] } {
  const query: Record<string, string> = Object.create(null);
  const repeated: InvalidParam[] = [];
  for (const [name, value] of new URLSearchParams(ctx.querystring)) {
    if (Object.hasOwn(query, name)) {
      if (!repeated.some((param) => param.name === name)) repeated.push({ name, reason: 'given more than once' });
    } else query[name] = value;
  }
  return { query, repeated };
}

/** Text the schema cannot see wrong once ajv has coerced it: NUL characters, and integers that are not digits. */
function malformed(schema: ObjectSchema, values: Record<string, string>): InvalidParam[] {
  const found: InvalidParam[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (value.includes('\u0000')) found.push({ name, reason: 'must not contain a NUL character' });
    else if (Object.hasOwn(schema.properties, name) && schema.properties[name].type === 'integer' && !/^-?\d+$/.test(value)) {
      found.push({ name, reason: `must be ${WHOLE_NUMBER_REASON}` });
    }
  }
  return found;
}

/** The request's query, validated against `schema`, typed; throws a 400 listing every bad parameter. */
export function validQuery<T>(ctx: Context, schema: ObjectSchema, pathParams: Record<string, string> = {}): T {
  const { query, repeated } = queryOf(ctx);
  const value: Record<string, string> = Object.assign(Object.create(null), query, pathParams);
  const reported = [...repeated, ...malformed(schema, value)];
  const errors = check(schema, value).filter((error) => !reported.some((param) => param.name === error.name));
  if (reported.length + errors.length > 0) throw invalidParams([...reported, ...errors]);
  return { ...value } as T;
}

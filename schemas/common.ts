// Shared JSON Schema pieces: the query parameters many endpoints take and the problem document.

export const date = {
  type: 'string',
  format: 'date',
  description: 'A day, YYYY-MM-DD, from 0001-01-01 to 9999-12-31.',
  example: '2024-01-31',
} as const;

export const pageParameters = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'Items per page (1..1000).' },
  offset: { type: 'integer', minimum: 0, maximum: 1_000_000_000, default: 0, description: 'Items to skip (0..1,000,000,000).' },
} as const;

export const formatParameter = {
  format: {
    type: 'string',
    enum: ['json', 'csv'],
    description: 'Answer as JSON or CSV; wins over the Accept header.',
  },
} as const;

export const minVersionParameter = {
  minVersion: {
    type: 'integer',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description:
      'The oldest data version the answer may come from (a Data-Version or /ready dataVersion seen earlier): a replica behind it is skipped, the primary answers when none has it, and a version the primary does not hold yet is a 400.',
    example: 3,
  },
} as const;

export const page = {
  limit: { type: 'integer' },
  offset: { type: 'integer' },
  total: { type: 'integer', description: 'Items in all pages.' },
} as const;

export const problem = {
  type: 'object',
  description: 'RFC 9457 problem details.',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    'invalid-params': {
      type: 'array',
      description: 'One entry per bad parameter (400 only).',
      items: {
        type: 'object',
        required: ['name', 'reason'],
        properties: { name: { type: 'string' }, reason: { type: 'string' } },
      },
    },
  },
} as const;

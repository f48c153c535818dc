// The Langfuse ingestion schema (POST /api/public/ingestion), checked by hand so the fake Langfuse
// server can reject what a real server would reject. Facts from Langfuse's public API reference
// (the OpenAPI `IngestionEvent` union) and the server's own validation rules: every batch item is an
// envelope `{ id, type, timestamp, metadata?, body }`; observation bodies (events, spans,
// generations) require `body.id`; a trace body's id is optional; timestamps are ISO 8601 with an
// offset; ids are 1-800 characters without carriage returns; environments are lower-case names not
// starting with "langfuse"; token counts are non-negative integers; `promptName` and
// `promptVersion` come together. Unknown fields are ignored, as the server ignores them.

/** Every event type the ingestion endpoint accepts. */
export const LANGFUSE_INGESTION_EVENT_TYPES = [
  'trace-create',
  'score-create',
  'event-create',
  'span-create',
  'span-update',
  'generation-create',
  'generation-update',
  'sdk-log',
  'observation-create',
  'observation-update',
] as const;

export type LangfuseIngestionEventType = (typeof LANGFUSE_INGESTION_EVENT_TYPES)[number];

/** A batch item that passed validation. */
export interface LangfuseIngestionEvent {
  id: string;
  type: LangfuseIngestionEventType;
  timestamp: string;
  metadata?: unknown;
  body: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
type Check = (value: unknown, path: string, issues: string[]) => void;

const TYPES = new Set<string>(LANGFUSE_INGESTION_EVENT_TYPES);
const LEVELS = new Set(['DEBUG', 'DEFAULT', 'WARNING', 'ERROR']);
const USAGE_UNITS = new Set(['CHARACTERS', 'TOKENS', 'MILLISECONDS', 'SECONDS', 'IMAGES', 'REQUESTS']);
const OBSERVATION_TYPES = new Set(['GENERATION', 'SPAN', 'EVENT']);
const SCORE_DATA_TYPES = new Set(['NUMERIC', 'CATEGORICAL', 'BOOLEAN']);
// ISO 8601 date-time with a mandatory offset (Z or +hh:mm), as zod's datetime({ offset: true }).
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const ENVIRONMENT = /^(?!langfuse)[a-z0-9-_]+$/;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown): boolean => v === undefined || v === null;
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

const id: Check = (v, path, issues) => {
  if (typeof v !== 'string' || v.length < 1 || v.length > 800) issues.push(`${path}: expected an id (string of 1-800 characters), got ${describe(v)}`);
  else if (v.includes('\r')) issues.push(`${path}: an id cannot contain carriage return characters`);
};
const string: Check = (v, path, issues) => {
  if (typeof v !== 'string') issues.push(`${path}: expected a string, got ${describe(v)}`);
};
const datetime: Check = (v, path, issues) => {
  if (typeof v !== 'string' || !DATETIME.test(v) || Number.isNaN(Date.parse(v))) {
    issues.push(`${path}: expected an ISO 8601 date-time with offset, got ${JSON.stringify(v)}`);
  }
};
const boolean: Check = (v, path, issues) => {
  if (typeof v !== 'boolean') issues.push(`${path}: expected a boolean, got ${describe(v)}`);
};
const int: Check = (v, path, issues) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) issues.push(`${path}: expected an integer, got ${JSON.stringify(v)}`);
};
const nonNegativeInt: Check = (v, path, issues) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) issues.push(`${path}: expected a non-negative integer, got ${JSON.stringify(v)}`);
};
const number: Check = (v, path, issues) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) issues.push(`${path}: expected a number, got ${describe(v)}`);
};
const any: Check = () => undefined;
const oneOf =
  (allowed: Set<string>): Check =>
  (v, path, issues) => {
    if (typeof v !== 'string' || !allowed.has(v)) issues.push(`${path}: expected one of ${[...allowed].join(', ')}, got ${JSON.stringify(v)}`);
  };
const stringArray: Check = (v, path, issues) => {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) issues.push(`${path}: expected an array of strings`);
};
// The server fills in "default" when the field is missing; null is not accepted.
const environment: Check = (v, path, issues) => {
  if (v === undefined) return;
  if (typeof v !== 'string' || v.length > 40 || !ENVIRONMENT.test(v)) {
    issues.push(`${path}: expected lower-case letters, digits, '-' or '_' (at most 40, not starting with 'langfuse'), got ${JSON.stringify(v)}`);
  }
};

const modelParameters: Check = (v, path, issues) => {
  if (!isObj(v)) return void issues.push(`${path}: expected an object, got ${describe(v)}`);
  for (const [key, value] of Object.entries(v)) {
    const ok =
      absent(value) ||
      ['string', 'number', 'boolean'].includes(typeof value) ||
      (Array.isArray(value) && value.every((s) => typeof s === 'string')) ||
      (isObj(value) && Object.values(value).every((s) => typeof s === 'string'));
    if (!ok) issues.push(`${path}.${key}: expected a string, number, boolean, string array or string map`);
  }
};

const usage: Check = (v, path, issues) => {
  if (!isObj(v)) return void issues.push(`${path}: expected an object, got ${describe(v)}`);
  for (const key of ['input', 'output', 'total', 'promptTokens', 'completionTokens', 'totalTokens']) {
    if (!absent(v[key])) int(v[key], `${path}.${key}`, issues);
  }
  for (const key of ['inputCost', 'outputCost', 'totalCost']) {
    if (!absent(v[key])) number(v[key], `${path}.${key}`, issues);
  }
  if (!absent(v['unit'])) oneOf(USAGE_UNITS)(v['unit'], `${path}.unit`, issues);
};

// Either a map of non-negative integers, or OpenAI's usage object as it comes (with *_details maps).
const usageDetails: Check = (v, path, issues) => {
  if (!isObj(v)) return void issues.push(`${path}: expected an object, got ${describe(v)}`);
  const openAIShape = ['prompt_tokens', 'input_tokens'].some((k) => k in v) && Object.keys(v).some((k) => k.endsWith('_details'));
  for (const [key, value] of Object.entries(v)) {
    if (openAIShape && key.endsWith('_details')) {
      if (absent(value)) continue;
      if (!isObj(value)) issues.push(`${path}.${key}: expected a map of token counts`);
      else for (const [k, n] of Object.entries(value)) if (!absent(n)) nonNegativeInt(n, `${path}.${key}.${k}`, issues);
      continue;
    }
    if (!absent(value)) nonNegativeInt(value, `${path}.${key}`, issues);
  }
};

const costDetails: Check = (v, path, issues) => {
  if (!isObj(v)) return void issues.push(`${path}: expected an object, got ${describe(v)}`);
  for (const [key, value] of Object.entries(v)) {
    if (!absent(value) && (typeof value !== 'number' || value < 0)) issues.push(`${path}.${key}: expected a non-negative number`);
  }
};

/** Field rules of one body: `required` fields must be present; the others may be absent or null. */
interface BodyShape {
  required?: Record<string, Check>;
  optional: Record<string, Check>;
  refine?: (body: Obj, path: string, issues: string[]) => void;
}

const TRACE: BodyShape = {
  optional: {
    id,
    timestamp: datetime,
    name: (v, p, i) => (typeof v === 'string' && v.length > 1000 ? i.push(`${p}: at most 1000 characters`) : string(v, p, i)),
    externalId: string,
    input: any,
    output: any,
    sessionId: string,
    userId: string,
    metadata: any,
    release: string,
    version: string,
    public: boolean,
    tags: stringArray,
  },
};

const OBSERVATION_COMMON = {
  traceId: id,
  name: string,
  startTime: datetime,
  metadata: any,
  input: any,
  output: any,
  level: oneOf(LEVELS),
  statusMessage: string,
  parentObservationId: string,
  version: string,
};

const GENERATION_FIELDS = {
  endTime: datetime,
  completionStartTime: datetime,
  model: string,
  modelParameters,
  usage,
  usageDetails,
  costDetails,
  promptName: string,
  promptVersion: int,
};

const promptPair = (body: Obj, path: string, issues: string[]): void => {
  if (Boolean(body['promptName']) !== Boolean(body['promptVersion'])) issues.push(`${path}: promptName and promptVersion must be set together`);
};

const EVENT: BodyShape = { required: { id }, optional: OBSERVATION_COMMON };
const SPAN: BodyShape = { required: { id }, optional: { ...OBSERVATION_COMMON, endTime: datetime } };
const GENERATION: BodyShape = { required: { id }, optional: { ...OBSERVATION_COMMON, ...GENERATION_FIELDS }, refine: promptPair };
const LEGACY_OBSERVATION: BodyShape = {
  required: { type: oneOf(OBSERVATION_TYPES) },
  optional: { ...OBSERVATION_COMMON, ...GENERATION_FIELDS, id },
};
const SCORE: BodyShape = {
  required: {
    name: (v, p, i) => (typeof v === 'string' && v.length > 0 ? undefined : void i.push(`${p}: expected a non-empty string`)),
    value: (v, p, i) => (typeof v === 'number' || typeof v === 'string' ? undefined : void i.push(`${p}: expected a number or a string`)),
  },
  optional: {
    id,
    traceId: string,
    sessionId: string,
    observationId: string,
    datasetRunId: string,
    comment: string,
    metadata: any,
    configId: string,
    dataType: oneOf(SCORE_DATA_TYPES),
    source: oneOf(new Set(['API', 'EVAL', 'ANNOTATION'])),
  },
};
const SDK_LOG: BodyShape = { required: { log: any }, optional: { id: string } };

const SHAPES: Record<LangfuseIngestionEventType, BodyShape> = {
  'trace-create': TRACE,
  'score-create': SCORE,
  'event-create': EVENT,
  'span-create': SPAN,
  'span-update': SPAN,
  'generation-create': GENERATION,
  'generation-update': GENERATION,
  'sdk-log': SDK_LOG,
  'observation-create': LEGACY_OBSERVATION,
  'observation-update': LEGACY_OBSERVATION,
};

/** The problems with one batch item (empty when the item is valid), each naming the field. */
export function validateIngestionEvent(item: unknown): string[] {
  const issues: string[] = [];
  if (!isObj(item)) return [`item: expected an object, got ${describe(item)}`];
  id(item['id'], 'id', issues);
  datetime(item['timestamp'], 'timestamp', issues);
  const type = item['type'];
  if (typeof type !== 'string' || !TYPES.has(type)) {
    issues.push(`type: expected one of ${LANGFUSE_INGESTION_EVENT_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
    return issues;
  }
  const body = item['body'];
  if (!isObj(body)) return [...issues, `body: expected an object, got ${describe(body)}`];
  const shape = SHAPES[type as LangfuseIngestionEventType];
  for (const [key, check] of Object.entries(shape.required ?? {})) {
    if (absent(body[key])) issues.push(`body.${key}: required`);
    else check(body[key], `body.${key}`, issues);
  }
  for (const [key, check] of Object.entries(shape.optional)) {
    if (!absent(body[key])) check(body[key], `body.${key}`, issues);
  }
  if (type !== 'sdk-log') environment(body['environment'], 'body.environment', issues);
  shape.refine?.(body, 'body', issues);
  return issues;
}

/** The problems with a whole request body: it must be `{ batch: [...], metadata? }`. */
export function validateIngestionRequest(body: unknown): string[] {
  if (!isObj(body)) return [`expected a JSON object { batch, metadata }, got ${describe(body)}`];
  if (!Array.isArray(body['batch'])) return [`batch: expected an array, got ${describe(body['batch'])}`];
  return [];
}

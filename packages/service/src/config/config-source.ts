// Reading a config: a YAML or JSON file (by extension; anything else is read as YAML, which also
// accepts JSON) or an object already in memory, plus a way to find where a path is in a YAML file
// so that errors can give a line and column.
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { ConfigError, describeFound } from './config-error.js';

export interface ConfigSource {
  /** The parsed document. */
  readonly data: unknown;
  /** Absolute path of the file, when read from one. */
  readonly file: string | undefined;
  /** Line and column (1-based) of the value at `path`, for YAML files. */
  locate(path: readonly PropertyKey[]): { line: number; column: number } | undefined;
}

const NO_LOCATION = (): undefined => undefined;

export async function readConfigSource(source: string | URL | object): Promise<ConfigSource> {
  if (typeof source === 'string' || source instanceof URL) return readFileSource(source);
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    throw new ConfigError(
      [{ path: '(root)', expected: 'a file path, or a config object like { litellm_settings: { callbacks: [...] } }', found: describeFound(source) }],
      undefined,
    );
  }
  return { data: source, file: undefined, locate: NO_LOCATION };
}

async function readFileSource(source: string | URL): Promise<ConfigSource> {
  const file = source instanceof URL ? fileURLToPath(source) : resolve(source);
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const found = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : `an unreadable file (${(error as Error).message})`;
    throw new ConfigError([{ path: '(file)', expected: 'a readable YAML or JSON config file', found }], file, { cause: error });
  }
  if (extname(file).toLowerCase() === '.json') return parseJson(text, file);
  return parseYaml(text, file);
}

function parseJson(text: string, file: string): ConfigSource {
  try {
    return { data: JSON.parse(text) as unknown, file, locate: NO_LOCATION };
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    const position = at ? lineColumn(text, Number(at[1])) : undefined;
    throw new ConfigError([{ path: '(file)', expected: 'valid JSON', found: `a syntax error: ${message}`, ...position }], file, { cause: error });
  }
}

function parseYaml(text: string, file: string): ConfigSource {
  const lineCounter = new LineCounter();
  // Duplicate keys are an error (the default), so a repeated `callbacks:` cannot silently replace the first.
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((error) => {
        const position = lineCounter.linePos(error.pos[0]);
        return {
          path: '(file)',
          expected: 'valid YAML',
          found: `a syntax error: ${error.message.split('\n')[0] ?? error.message}`,
          line: position.line,
          column: position.col,
        };
      }),
      file,
    );
  }
  return {
    data: document.toJS({ maxAliasCount: 100 }) as unknown,
    file,
    locate(path) {
      const node = document.getIn(path as Iterable<unknown>, true);
      const offset = isNode(node) ? node.range?.[0] : undefined;
      if (offset === undefined) return undefined;
      const position = lineCounter.linePos(offset);
      return { line: position.line, column: position.col };
    },
  };
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

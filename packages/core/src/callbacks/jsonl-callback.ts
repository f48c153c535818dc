// Built-in callback: every event as one JSON line appended to a file; flush() waits for the disk.
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { defineCallback, type Callback } from '../callback.js';
import type { CallEvent } from '../event.js';
import { LlmCallbacksError } from '../errors.js';
import { checkOptionNames } from '../option-names.js';

/** Options of {@link jsonlCallback}. */
export interface JsonlCallbackOptions {
  /** File to append to; its folder is created when missing. */
  path: string;
  /** Callback name (default `jsonl`). */
  name?: string;
}

/** A built-in callback that appends every event as one JSON line to a file; its `flush()` resolves once the lines are on disk. */
export function jsonlCallback(options: JsonlCallbackOptions): Callback {
  if (!options || typeof options.path !== 'string' || options.path.length === 0 || options.path.includes('\0')) {
    throw new LlmCallbacksError('INVALID_OPTIONS', 'jsonlCallback({ path }): path must be the file to append events to.');
  }
  checkOptionNames('jsonlCallback(options)', options, Object.keys({ path: true, name: true } satisfies Record<keyof JsonlCallbackOptions, true>));
  let stream: WriteStream | undefined;
  let failure: Error | undefined;
  const open = (): WriteStream => {
    if (!stream) {
      mkdirSync(dirname(options.path), { recursive: true });
      stream = createWriteStream(options.path, { flags: 'a' });
      stream.on('error', (error) => {
        failure = error;
      });
    }
    return stream;
  };
  const write = (event: CallEvent): void | Promise<void> => {
    if (failure) {
      // The stream died (disk full, the path made unusable, ...): say so with this event, and open
      // the file again for the next one instead of failing every event from now on.
      const error = failure;
      failure = undefined;
      stream?.destroy();
      stream = undefined;
      throw new Error(
        `jsonlCallback: writing ${options.path} failed (${error.message}); lines not yet on disk were lost, and the file is opened again for the next event.`,
      );
    }
    const s = open();
    // Backpressure: while the file is slower than the calls, the hook waits for it, so the
    // manager's bounded queue (not this stream's buffer) holds the backlog.
    if (!s.write(`${JSON.stringify(event)}\n`)) return once(s, 'drain').then(() => undefined);
  };
  const drain = async (): Promise<void> => {
    if (failure) {
      const error = failure;
      failure = undefined;
      stream?.destroy();
      stream = undefined;
      throw error;
    }
    const s = stream;
    if (!s || s.writableLength === 0) return;
    // An empty write's callback runs once everything written before it reached the file.
    await new Promise<void>((resolve, reject) => s.write('', (error) => (error ? reject(error) : resolve())));
  };
  return defineCallback({
    name: options.name ?? 'jsonl',
    onSuccess: write,
    onFailure: write,
    flush: drain,
    async shutdown() {
      await drain();
      const s = stream;
      stream = undefined;
      if (s) {
        s.end();
        await once(s, 'close');
      }
    },
  });
}

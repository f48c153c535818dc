// The spool on disk: one directory per writing process, segment files of JSON lines in it, and the
// rules that let a later process take over what a dead one left behind.
//
//   {directory}/w-{writer}/lock                       {"pid":..,"host":..}: this writer is alive
//   {directory}/w-{writer}/{seq}-{createdAt}.open     the segment being appended to (fsync'd per write)
//   {directory}/w-{writer}/{seq}-{createdAt}.seg      sealed: content final, waiting for delivery
//   {directory}/w-{owner}/w-{dead}/...                adopted from a dead writer, delivered by owner
//
// A segment's id is `{writer}-{seq}` of the process that wrote it, whoever delivers it later, so a
// sink can derive the same object key from it on every attempt and a re-delivery overwrites.
// Writers never share a file: each process appends only inside its own directory. A directory is
// created under a temporary name with its lock inside, then renamed into place, so a `w-*` directory
// without a readable lock is an abandoned one. Taking over is one atomic rename of the dead writer's
// directory into the adopter's: of two processes trying at once, exactly one succeeds.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Dirent } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

/** One segment file found on disk. */
export interface SegmentFile {
  /** `{writer}-{seq}`: stable across processes and restarts. */
  readonly id: string;
  readonly path: string;
  /** Epoch ms the segment was opened (from its name). */
  readonly createdAt: number;
  readonly bytes: number;
  /** true for a segment adopted from another (dead) writer, or left by this writer's previous life. */
  readonly adopted: boolean;
}

/** What reading a segment back found. */
export interface SegmentContent {
  readonly lines: readonly string[];
  /** Complete lines that were not valid JSON objects with a string `id` (skipped). */
  readonly corrupt: number;
  /** true when the file ended in a partial line (a write cut short by a crash; ignored). */
  readonly tornTail: boolean;
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: number;
}

const SEGMENT = /^(\d{6,})-(\d{13,})\.(open|seg)$/;
const WRITER_DIR = /^w-([0-9a-z]+)$/;
const TEMP_DIR = /^tmp-([0-9a-z]+)$/;

/** A new writer id: start time (base 36, so ids sort by age) and randomness. */
export function newWriterId(): string {
  return `${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
}

/** Is the writer that holds this lock gone? Only provable on this host (`kill(pid, 0)` fails with ESRCH). */
function lockIsDead(lock: LockInfo | undefined): boolean {
  if (!lock) return true;
  if (lock.host !== hostname()) return false; // another machine's process: never steal (see README limits)
  if (lock.pid === process.pid) return false;
  try {
    process.kill(lock.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function readLock(dir: string): Promise<LockInfo | undefined> {
  try {
    const value = JSON.parse(await readFile(join(dir, 'lock'), 'utf8')) as Partial<LockInfo>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string') return undefined;
    return { pid: value.pid, host: value.host, startedAt: Number(value.startedAt) || 0 };
  } catch {
    return undefined;
  }
}

/** fsync a directory, so a file created or renamed in it survives a power cut, not only a crash. */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, fsConstants.O_RDONLY);
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the data itself is synced regardless.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** The spool directory as seen by one process. */
export class SegmentStore {
  readonly writer = newWriterId();
  readonly ownDir: string;
  private seq = 0;

  constructor(readonly directory: string) {
    this.ownDir = join(directory, `w-${this.writer}`);
  }

  /** Creates this writer's directory with its lock (atomically: built under a temporary name, then renamed). */
  async open(): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const temp = join(this.directory, `tmp-${this.writer}`);
    await rm(temp, { recursive: true, force: true }); // left by an earlier attempt of this writer that failed
    await mkdir(temp, { mode: 0o700 });
    const lock: LockInfo = { pid: process.pid, host: hostname(), startedAt: Date.now() };
    const handle = await open(join(temp, 'lock'), 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(lock));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.ownDir);
    await syncDir(this.directory);
  }

  /**
   * Takes over the directories of writers that are gone (their process no longer exists on this
   * host, or they shut down). Returns how many were adopted. Never throws for a race lost to
   * another adopter.
   */
  async adoptAbandoned(): Promise<number> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.directory, { withFileTypes: true });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return 0;
      throw error;
    }
    let adopted = 0;
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(this.directory, entry.name);
      if (TEMP_DIR.test(entry.name)) {
        // A writer that died between creating its temporary directory and renaming it: nothing in it but a lock.
        if (lockIsDead(await readLock(path))) await rm(path, { recursive: true, force: true }).catch(() => undefined);
        continue;
      }
      const match = WRITER_DIR.exec(entry.name);
      if (!match || match[1] === this.writer) continue;
      if (!lockIsDead(await readLock(path))) continue;
      const target = join(this.ownDir, entry.name);
      try {
        await rename(path, target);
      } catch (error) {
        if (isErrno(error, 'ENOENT', 'ENOTEMPTY', 'EEXIST')) continue; // another process adopted it first
        throw error;
      }
      adopted += 1;
      await unlink(join(target, 'lock')).catch(() => undefined);
      // A dead adopter's own adoptions come along; lift them to one level so paths stay short.
      for (const inner of await readdir(target, { withFileTypes: true })) {
        if (inner.isDirectory() && WRITER_DIR.test(inner.name)) {
          await rename(join(target, inner.name), join(this.ownDir, inner.name)).catch(() => undefined);
        }
      }
    }
    if (adopted > 0) await syncDir(this.ownDir);
    return adopted;
  }

  /** Every segment this process must deliver: its own sealed ones and everything adopted, oldest first. */
  async list(): Promise<SegmentFile[]> {
    const found: SegmentFile[] = [];
    const scan = async (dir: string, writer: string, adopted: boolean): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) {
          const match = WRITER_DIR.exec(entry.name);
          if (match && dir === this.ownDir) await scan(join(dir, entry.name), match[1] as string, true);
          continue;
        }
        const match = SEGMENT.exec(entry.name);
        // This process's open segment is still being written; an adopted one is final as it is.
        if (!match || (!adopted && match[3] === 'open')) continue;
        const path = join(dir, entry.name);
        const info = await stat(path).catch(() => undefined);
        if (!info) continue;
        found.push({ id: `${writer}-${match[1]}`, path, createdAt: Number(match[2]), bytes: info.size, adopted });
      }
    };
    await scan(this.ownDir, this.writer, false);
    return found.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** A new segment file of this writer, opened for appending. */
  async create(): Promise<{ id: string; path: string; createdAt: number; handle: FileHandle }> {
    const seq = String(++this.seq).padStart(6, '0');
    const createdAt = Date.now();
    const path = join(this.ownDir, `${seq}-${createdAt}.open`);
    const handle = await open(path, 'wx', 0o600);
    await syncDir(this.ownDir);
    return { id: `${this.writer}-${seq}`, path, createdAt, handle };
  }

  /** Marks a segment final: `.open` becomes `.seg`. Returns the new path. */
  async seal(path: string): Promise<string> {
    const sealed = path.replace(/\.open$/, '.seg');
    await rename(path, sealed);
    return sealed;
  }

  /** Removes a delivered segment (and an adopted directory once it is empty). */
  async remove(segment: SegmentFile): Promise<void> {
    try {
      await unlink(segment.path);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
    if (segment.adopted) {
      const dir = dirname(segment.path);
      if (dir !== this.ownDir) await rmdir(dir).catch(() => undefined); // ENOTEMPTY while others remain
    }
  }

  /**
   * Gives the directory up: removes the lock, so the next process adopts whatever is left (at once,
   * without waiting for this one to exit), and removes the directory itself when nothing is left.
   */
  async release(): Promise<void> {
    await unlink(join(this.ownDir, 'lock')).catch(() => undefined);
    const entries = await readdir(this.ownDir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory()) await rmdir(join(this.ownDir, entry.name)).catch(() => undefined);
    await rmdir(this.ownDir).catch(() => undefined);
  }
}

/** Reads a segment: complete lines only (a partial last line is a write a crash cut short, never acknowledged). */
export async function readSegment(path: string): Promise<SegmentContent> {
  const text = await readFile(path, 'utf8');
  const parts = text.split('\n');
  const tail = parts.pop() ?? '';
  const lines: string[] = [];
  let corrupt = 0;
  for (const line of parts) {
    if (line === '') continue;
    if (isEventLine(line)) lines.push(line);
    else corrupt += 1;
  }
  return { lines, corrupt, tornTail: tail !== '' };
}

function isEventLine(line: string): boolean {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
  } catch {
    return false;
  }
}

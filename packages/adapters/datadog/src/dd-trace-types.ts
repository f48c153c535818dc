// The dd-trace types this package uses, named once (dd-trace's declarations use `export =`).
import type ddTrace from 'dd-trace';
import type { TracerOptions as DdTracerOptions } from 'dd-trace';

/** The dd-trace tracer (`require('dd-trace')`). */
export type Tracer = typeof ddTrace;
/** Options of dd-trace's `init()`. */
export type TracerOptions = DdTracerOptions;
/** A dd-trace span. */
export type Span = ReturnType<Tracer['startSpan']>;

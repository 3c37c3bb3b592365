// A step of the demo that failed: one message naming the step (and, for a service, its log's end).
import * as Data from "effect/Data";

export class DemoError extends Data.TaggedError("DemoError")<{ readonly message: string; readonly cause?: unknown }> {}

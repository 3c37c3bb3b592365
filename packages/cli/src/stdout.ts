// Writing to stdout with back-pressure: a command producing lines faster than a pipe reads them
// waits for 'drain' instead of buffering the whole output in memory.
import * as Effect from "effect/Effect";

export const writeOut = (text: string) =>
  Effect.async<void>((resume) => {
    if (process.stdout.write(text)) resume(Effect.void);
    else process.stdout.once("drain", () => resume(Effect.void));
  });

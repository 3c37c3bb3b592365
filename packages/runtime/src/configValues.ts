// Environment values every service reads the same way, with the variable named in the error.
import * as Config from "effect/Config";

/** A comma-separated list: items trimmed, empty ones dropped. */
export const commaList = (name: string, dflt = "") =>
  Config.string(name).pipe(
    Config.withDefault(dflt),
    Config.map((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x !== ""),
    ),
  );

/** An integer above zero. */
export const positiveInt = (name: string, dflt: number) =>
  Config.integer(name).pipe(
    Config.withDefault(dflt),
    Config.validate({ message: `${name} must be a positive integer`, validation: (n) => n > 0 }),
  );

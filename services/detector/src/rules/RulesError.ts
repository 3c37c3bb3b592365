// Why a rules document was refused: the file (or topic message), the path inside it and the
// reason, rendered in `message` as the one line `rules apply` prints and the detector logs.
import * as Data from "effect/Data";

export class RulesError extends Data.TaggedError("RulesError")<{
  readonly file: string;
  /** Dotted path to the offending key, e.g. `rules.rtt_high.threshold_ms`; "" for the whole document. */
  readonly path: string;
  readonly reason: string;
  /** `file: path: reason` */
  readonly message: string;
}> {}

export const rulesError = (file: string, path: string, reason: string): RulesError =>
  new RulesError({ file, path, reason, message: `${file}: ${path === "" ? "" : `${path}: `}${reason}` });

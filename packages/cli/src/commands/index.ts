// Every command module exports `register(program)`; each command lives in its own file.
import type { Command } from "commander";
import * as capture from "./capture.js";
import * as anomalies from "./anomalies.js";
import * as backtest from "./backtest.js";
import * as enrich from "./enrich.js";
import * as policy from "./policy.js";
import * as query from "./query.js";
import * as replay from "./replay.js";
import * as rules from "./rules.js";
import * as services from "./services.js";
import * as sink from "./sink.js";
import * as start from "./start.js";

const modules: ReadonlyArray<{ readonly register: (program: Command) => void }> = [
  services,
  capture,
  enrich,
  policy,
  sink,
  query,
  replay,
  backtest,
  rules,
  anomalies,
  start,
];

export const registerCommands = (program: Command): void => {
  for (const m of modules) m.register(program);
};

// `netpulse enrich`: placeholder until its owner lands it.
import type { Command } from "commander";

export const register = (program: Command): void => {
  program.command("enrich").description("(not built yet)");
};

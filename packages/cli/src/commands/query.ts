// `netpulse query`: placeholder until its owner lands it.
import type { Command } from "commander";

export const register = (program: Command): void => {
  program.command("query").description("(not built yet)");
};

// `netpulse sink`: placeholder until its owner lands it.
import type { Command } from "commander";

export const register = (program: Command): void => {
  program.command("sink").description("(not built yet)");
};

// `netpulse policy`: placeholder until its owner lands it.
import type { Command } from "commander";

export const register = (program: Command): void => {
  program.command("policy").description("(not built yet)");
};

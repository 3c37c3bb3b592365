// Every command module exports `register(program)`; add new commands here.
import type { Command } from "commander";

const modules: ReadonlyArray<{ readonly register: (program: Command) => void }> = [];

export const registerCommands = (program: Command): void => {
  for (const m of modules) m.register(program);
};

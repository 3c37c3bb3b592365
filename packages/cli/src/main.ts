// The one netpulse CLI. Each command lives in commands/<name>.ts and registers itself on the
// program; parsing errors become one line on stderr and exit code 2.
import { Command, CommanderError } from "commander";
import { EXIT_USAGE } from "./UsageError.js";
import { registerCommands } from "./commands/index.js";

const program = new Command("netpulse")
  .description("eBPF TCP flow observability for Kubernetes")
  .showHelpAfterError(false)
  .exitOverride()
  .configureOutput({
    writeErr: (s) => process.stderr.write(s),
    outputError: (s, write) => write(`netpulse: ${s.replace(/^error: /, "").trim()}\n`),
  });

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode =
      err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    process.stderr.write(`netpulse: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

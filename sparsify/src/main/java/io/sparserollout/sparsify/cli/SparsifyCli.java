package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The command line the operator's Jobs, CI and users run. Exit codes: 0 success, 1 the check failed
 * (verify found violations), 2 bad input (message on stderr).
 */
@Command(
    name = "sparsify",
    mixinStandardHelpOptions = true,
    // Every subcommand answers --help and --version too.
    scope = CommandLine.ScopeType.INHERIT,
    version = "sparsify 0.1.0",
    description = "2:4 structured sparsity for ONNX models: prune, verify, quantize, evaluate.",
    subcommands = {
      PruneCommand.class,
      VerifyCommand.class,
      QuantizeCommand.class,
      BuildEngineCommand.class,
      EvaluateCommand.class,
      FetchCommand.class,
      FinetuneCommand.class,
      HeadCommand.class
    })
public final class SparsifyCli implements Runnable {
  public static final int CHECK_FAILED = 1;
  public static final int BAD_INPUT = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  public static int execute(String... args) {
    return execute(
        new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true), args);
  }

  public static int execute(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
    CommandLine cli = commandLine().setOut(out).setErr(err);
    cli.setExecutionExceptionHandler(
        (e, command, parsed) -> {
          if (e instanceof SparsifyException) {
            String message = "sparsify " + command.getCommandName() + ": " + e.getMessage();
            command.getErr().println(message);
            // A Job's pod reports why it failed, not just that it did.
            Output.terminationMessage(message);
            return BAD_INPUT;
          }
          throw e;
        });
    return cli.execute(args);
  }

  /** The parser every run uses. */
  static CommandLine commandLine() {
    // Arguments carry user strings (regexes, locations): "@x" must never read the file x.
    return new CommandLine(new SparsifyCli()).setExpandAtFiles(false);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand");
  }
}

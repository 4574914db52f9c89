package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.store.Locations;
import io.sparserollout.stage.Cli;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.function.Consumer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every subcommand shares: its locations (local paths, s3:// and https:// URIs), the full
 * report file, and the choice between compact JSON and a human summary on stdout.
 */
final class CommandRun {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(names = Cli.REPORT, description = "write the full JSON report here (path or s3:// URI)")
  String report;

  @Option(names = Cli.JSON, description = "print the result as compact JSON on stdout")
  boolean json;

  private final Locations locations = new Locations();

  Path input(String location) {
    return locations.input(location);
  }

  /**
   * An input that must be the artifact its stage reported: a file whose SHA-256 differs (replaced
   * after that stage) is refused. No expected digest, no check.
   */
  Path input(String location, String expectSha256) {
    Path input = locations.input(location);
    String mismatch = io.sparserollout.stage.Sha256.mismatch(input, expectSha256);
    if (mismatch != null) {
      throw new SparsifyException(mismatch);
    }
    return input;
  }

  Path output(String location) {
    return locations.output(location);
  }

  /** Writes the full report, uploads s3:// outputs, then prints the result. */
  void finish(Object full, Object compact, Consumer<PrintWriter> human) {
    Output.report(locations.output(report), full);
    locations.publish();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Output.json(out, compact);
    } else {
      human.accept(out);
      out.flush();
    }
  }

  /** Progress of long steps, on stderr. */
  void progress(String line) {
    spec.commandLine().getErr().println(line);
    spec.commandLine().getErr().flush();
  }
}

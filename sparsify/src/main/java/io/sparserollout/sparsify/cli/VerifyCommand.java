package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.verify.Verifier;
import io.sparserollout.sparsify.verify.VerifyReport;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "verify",
    description = "Check each layer for 2:4 along its reduction axis; exit 1 on violations.")
final class VerifyCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  private final io.sparserollout.sparsify.store.Locations locations =
      new io.sparserollout.sparsify.store.Locations();

  @Option(names = "--model", required = true)
  String model;

  @Option(names = "--report", description = "write the full JSON report here")
  String report;

  @Option(names = "--json", description = "print the result as JSON on stdout")
  boolean json;

  @Override
  public Integer call() {
    VerifyReport result = Verifier.verify(OnnxModel.load(locations.input(model)));
    Output.report(locations.output(report), result);
    locations.publish();
    var out = spec.commandLine().getOut();
    if (json) {
      Output.json(
          out,
          Map.of(
              "sparseLayers", result.sparseLayers(),
              "layers", result.layers().size(),
              "violations", Output.firstFew(result.violations()),
              "violationCount", result.violations().size()));
    } else {
      out.printf(
          "%d of %d layers satisfy 2:4, %d violations%n",
          result.sparseLayers(), result.layers().size(), result.violations().size());
      result.violations().forEach(v -> out.printf("  violation %s: %s%n", v.weight(), v.reason()));
    }
    return result.violations().isEmpty() ? 0 : SparsifyCli.CHECK_FAILED;
  }
}

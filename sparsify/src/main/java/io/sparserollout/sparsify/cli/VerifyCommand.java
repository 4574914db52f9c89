package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.verify.Verifier;
import io.sparserollout.sparsify.verify.VerifyReport;
import io.sparserollout.stage.Cli;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "verify",
    description = "Check each layer for 2:4 along its reduction axis; exit 1 on violations.")
final class VerifyCommand implements Callable<Integer> {
  @Mixin CommandRun run;

  @Option(names = Cli.MODEL, required = true)
  String model;

  @Override
  public Integer call() {
    VerifyReport result = Verifier.verify(OnnxModel.load(run.input(model)));
    run.finish(
        result,
        Map.of(
            "sparseLayers", result.sparseLayers(),
            "layers", result.layers().size(),
            "violations", Output.firstFew(result.violations()),
            "violationCount", result.violations().size()),
        console -> {
          console.printf(
              "%d of %d layers satisfy 2:4, %d violations%n",
              result.sparseLayers(), result.layers().size(), result.violations().size());
          result
              .violations()
              .forEach(v -> console.printf("  violation %s: %s%n", v.weight(), v.reason()));
        });
    return result.violations().isEmpty() ? 0 : SparsifyCli.CHECK_FAILED;
  }
}

package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.stage.Cli;
import io.sparserollout.stage.FetchResult;
import io.sparserollout.stage.Sha256;
import io.sparserollout.tensorrt.EngineKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Copies one artifact to a local file: the inference pod's init container for s3:// stores. */
@Command(
    name = Cli.FETCH,
    description = "Copy an artifact (path, s3:// or https:// URI) to a file.")
final class FetchCommand implements Callable<Integer> {
  private static final String TENSORRT_PLAN = ".plan";

  @Mixin CommandRun run;

  @Option(names = Cli.FROM, required = true)
  String from;

  @Option(names = Cli.OUT, required = true, description = "local file to write")
  Path out;

  @Override
  public Integer call() {
    Path source = run.input(from);
    if (!Files.isRegularFile(source)) {
      throw new SparsifyException("no such file: " + from);
    }
    try {
      if (out.toAbsolutePath().getParent() != null) {
        Files.createDirectories(out.toAbsolutePath().getParent());
      }
      Files.copy(source, out, StandardCopyOption.REPLACE_EXISTING);
      long modelBytes = Files.size(out);
      long dataBytes = 0;
      // A model's external-data weights (NAME.data) come along under the name the model expects.
      Path data = source.resolveSibling(source.getFileName() + Sha256.EXTERNAL_DATA_SUFFIX);
      if (Files.isRegularFile(data)) {
        Path outData = out.resolveSibling(out.getFileName() + Sha256.EXTERNAL_DATA_SUFFIX);
        Files.copy(data, outData, StandardCopyOption.REPLACE_EXISTING);
        dataBytes = Files.size(outData);
      }
      // A TensorRT plan's key says which GPU and TensorRT version it suits: the pod checks it.
      if (from.endsWith(TENSORRT_PLAN)) {
        Path key = run.input(from + EngineKey.FILE_SUFFIX);
        if (!Files.isRegularFile(key)) {
          throw new SparsifyException(
              "the plan's key file " + from + EngineKey.FILE_SUFFIX + " is missing");
        }
        dataBytes +=
            Files.size(
                Files.copy(key, EngineKey.fileFor(out), StandardCopyOption.REPLACE_EXISTING));
      }
      long bytes = modelBytes + dataBytes;
      run.finish(
          Map.of("from", from, "out", out.toString(), "bytes", bytes),
          new FetchResult(out.toString(), bytes),
          console -> console.printf("%s -> %s (%d bytes)%n", from, out, bytes));
      return 0;
    } catch (IOException e) {
      throw new SparsifyException("cannot write " + out + ": " + e.getMessage(), e);
    }
  }
}

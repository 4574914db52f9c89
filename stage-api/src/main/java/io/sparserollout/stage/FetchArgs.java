package io.sparserollout.stage;

import java.util.List;

/** {@code sparsify fetch}: the serving pods' init container copies the model to local disk. */
public record FetchArgs(String from, String out) implements StageArgs {
  @Override
  public List<String> toArgs() {
    return new Line(Cli.FETCH).option(Cli.FROM, from).option(Cli.OUT, out).done();
  }
}

package io.sparserollout.stage;

import java.util.ArrayList;
import java.util.List;

/** A stage's command line as typed values; {@link #toArgs} spells it for sparsify. */
public sealed interface StageArgs
    permits PruneArgs, FineTuneArgs, QuantizeArgs, BuildEngineArgs, EvaluateArgs, FetchArgs {

  List<String> toArgs();

  /** Collects the words of a command line, skipping options whose value is absent. */
  final class Line {
    private final List<String> words = new ArrayList<>();

    public Line(String subcommand) {
      words.add(subcommand);
    }

    public Line option(String name, Object value) {
      if (value != null) {
        words.add(name);
        words.add(value.toString());
      }
      return this;
    }

    /**
     * {@code name=a name=b}: one word per value, so a value holding a comma (a regex's {@code
     * {1,3}}) or starting with '-' stays one value.
     */
    public Line list(String name, List<String> values) {
      if (values != null) {
        values.forEach(value -> words.add(name + "=" + value));
      }
      return this;
    }

    public Line flag(String name, boolean on) {
      if (on) {
        words.add(name);
      }
      return this;
    }

    /** Every stage ends alike: the full report in the store, the compact result as JSON. */
    public List<String> report(String reportFile) {
      option(Cli.REPORT, reportFile);
      words.add(Cli.JSON);
      return List.copyOf(words);
    }

    public List<String> done() {
      return List.copyOf(words);
    }
  }
}

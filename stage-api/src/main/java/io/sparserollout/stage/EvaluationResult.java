package io.sparserollout.stage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Dense against candidate on the same sentences. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record EvaluationResult(
    Integer samples,
    Fidelity fidelity,
    Task task,
    Performance dense,
    Performance candidate,
    List<VariantQuality> variants,
    CapturedData captured,
    List<SetQuality> sets)
    implements StageResult {

  /** One held-out set's result, as before named sets. */
  public EvaluationResult(
      Integer samples,
      Fidelity fidelity,
      Task task,
      Performance dense,
      Performance candidate,
      List<VariantQuality> variants,
      CapturedData captured) {
    this(samples, fidelity, task, dense, candidate, variants, captured, null);
  }

  /** The same, read from captured samples. */
  public EvaluationResult withCaptured(CapturedData data) {
    return new EvaluationResult(samples, fidelity, task, dense, candidate, variants, data, sets);
  }

  /**
   * What the stage's 4 KB termination message carries: with named sets, each set's gate metrics
   * rounded to 9 decimals (an absolute drop moves by at most 5e-10, under the gate's slack), and
   * the first set's numbers not twice; without, the result as it is.
   */
  public EvaluationResult compact() {
    return compact(ModelTask.EMBEDDING);
  }

  /**
   * As {@link #compact()}; a classifier's sets also keep top-1 agreement (its gate metric; a
   * classifier's scores have no NDCG or PNR, which leaves the room). Of a model of raw outputs, the
   * numbers of each output stay in the report: a model may have any number of outputs, and the gate
   * reads the worst one's cosine.
   */
  public EvaluationResult compact(ModelTask task) {
    return (task == ModelTask.TENSOR ? withoutOutputs() : this)
        .compactSets(task == ModelTask.CLASSIFICATION);
  }

  private EvaluationResult withoutOutputs() {
    return new EvaluationResult(
        samples,
        bare(fidelity),
        task,
        dense,
        candidate,
        bare(variants),
        captured,
        sets == null
            ? null
            : sets.stream()
                .map(
                    s ->
                        new SetQuality(
                            s.name(),
                            s.samples(),
                            bare(s.fidelity()),
                            s.task(),
                            bare(s.variants()),
                            s.captured()))
                .toList());
  }

  private static List<VariantQuality> bare(List<VariantQuality> variants) {
    return variants == null
        ? null
        : variants.stream()
            .map(v -> new VariantQuality(v.name(), bare(v.fidelity()), v.scores()))
            .toList();
  }

  private static Fidelity bare(Fidelity f) {
    return f == null
        ? null
        : new Fidelity(
            f.cosineMean(), f.cosineMin(), f.cosineP5(), f.top1Agreement(), f.top5Overlap());
  }

  private EvaluationResult compactSets(boolean top1) {
    if (sets == null || sets.isEmpty()) {
      return this;
    }
    return new EvaluationResult(
        samples,
        fidelity,
        null,
        dense,
        candidate,
        null,
        null,
        sets.stream()
            .map(
                s ->
                    new SetQuality(
                        s.name(),
                        s.samples(),
                        brief(s.fidelity(), top1),
                        s.task() == null
                            ? null
                            : new Task(
                                s.task().k(), brief(s.task().dense()), brief(s.task().candidate())),
                        s.variants() == null
                            ? null
                            : s.variants().stream()
                                .map(
                                    v ->
                                        new VariantQuality(
                                            v.name(), brief(v.fidelity(), top1), brief(v.scores())))
                                .toList(),
                        s.captured()))
            .toList());
  }

  private static Fidelity brief(Fidelity f, boolean top1) {
    return f == null
        ? null
        : new Fidelity(
            round(f.cosineMean()),
            null,
            null,
            top1 ? round(f.top1Agreement()) : null,
            round(f.top5Overlap()));
  }

  private static Scores brief(Scores s) {
    return s == null ? null : new Scores(round(s.accuracy()), round(s.ndcg()), round(s.pnr()));
  }

  private static Double round(Double value) {
    // Boxed on both sides: a mixed conditional would unbox a null (a classifier has no NDCG).
    return value == null || !Double.isFinite(value)
        ? value
        : Double.valueOf(Math.round(value * 1e9) / 1e9);
  }

  /**
   * Every held-out set's quality; the top-level fields are the first set's. One unnamed set when
   * the evaluation had no named sets.
   */
  public List<SetQuality> qualities() {
    return sets != null && !sets.isEmpty()
        ? sets
        : List.of(new SetQuality(null, samples, fidelity, task, variants, captured));
  }

  /**
   * One named held-out set: fidelity and task scores of the candidate and of each extra variant
   * against the dense model on that set's samples.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record SetQuality(
      String name,
      Integer samples,
      Fidelity fidelity,
      Task task,
      List<VariantQuality> variants,
      CapturedData captured) {}

  /** An extra variant against the same dense outputs: fidelity, and task scores with labels. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record VariantQuality(String name, Fidelity fidelity, Scores scores) {}

  /**
   * How closely the candidate's outputs follow the dense model's: cosine per sentence (of the
   * mean-pooled embedding, or of a classifier's logits), and whether the top answers stay the same
   * (an embedding's nearest neighbours among the other sentences, a classifier's top classes). Of a
   * model of raw outputs, each output's numbers, and the cosines of its worst output.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Fidelity(
      Double cosineMean,
      Double cosineMin,
      Double cosineP5,
      Double top1Agreement,
      Double top5Overlap,
      List<OutputFidelity> outputs) {
    public Fidelity(
        Double cosineMean,
        Double cosineMin,
        Double cosineP5,
        Double top1Agreement,
        Double top5Overlap) {
      this(cosineMean, cosineMin, cosineP5, top1Agreement, top5Overlap, null);
    }
  }

  /**
   * One output of a model of raw outputs: the cosine of each sample's values to the dense model's
   * (mean, least, 5th percentile) and the largest absolute difference of any value.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record OutputFidelity(
      String name, Double cosineMean, Double cosineMin, Double cosineP5, Double maxAbsError) {}

  /** Task metrics against labels, for both models; absent without labels. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Task(Integer k, Scores dense, Scores candidate) {}

  /** Label accuracy, NDCG@k and pairwise ranking (PNR) of one model. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Scores(Double accuracy, Double ndcg, Double pnr) {}

  /** Throughput and batch latency in ONNX Runtime on the machine that ran the stage. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Performance(
      Integer batchSize, Double sentencesPerSecond, Double batchLatencyMsP50, Integer threads) {}
}

package io.sparserollout.stage;

/**
 * The names on sparsify's command line. sparsify's picocli options are declared with these
 * constants and the operator builds its Jobs' arguments from them (through the {@code *Args}
 * records), so an option renamed on one side fails to compile on the other.
 */
public final class Cli {
  private Cli() {}

  // Subcommands, one per stage (and the serving pods' init container).
  public static final String PRUNE = "prune";
  public static final String FINETUNE = "finetune";
  public static final String QUANTIZE = "quantize";
  public static final String BUILD_ENGINE = "build-engine";
  public static final String EVALUATE = "evaluate";
  public static final String FETCH = "fetch";
  public static final String HEAD = "head";

  // Options.
  public static final String METHOD = "--method";
  public static final String MODEL = "--model";
  public static final String DENSE = "--dense";
  public static final String INIT = "--init";
  public static final String CANDIDATE = "--candidate";
  public static final String OUT = "--out";
  public static final String FROM = "--from";
  public static final String TOKENIZER = "--tokenizer";
  public static final String CALIBRATION = "--calibration";
  public static final String TRAIN = "--train";
  public static final String DATA = "--data";
  public static final String LABELS = "--labels";
  public static final String SAMPLES = "--samples";
  public static final String OFFSET = "--offset";
  public static final String SET = "--set";
  public static final String SET_LABELS = "--set-labels";
  public static final String SET_OFFSET = "--set-offset";
  public static final String CAPTURED_PART = "--captured-part";
  public static final String ALSO_CAPTURED = "--also-captured";
  public static final String TOP_K = "--top-k";
  public static final String TASK = "--task";
  public static final String CLASSES = "--classes";
  public static final String INCLUDE = "--include";
  public static final String EXCLUDE = "--exclude";
  public static final String MAX_LENGTH = "--max-length";
  public static final String PERCENTILE = "--percentile";
  public static final String BACKEND = "--backend";
  public static final String PRECISION = "--precision";
  public static final String BATCH = "--batch";
  public static final String SEQUENCE = "--sequence";
  public static final String STEPS = "--steps";
  public static final String BATCH_SIZE = "--batch-size";
  public static final String LEARNING_RATE = "--learning-rate";
  public static final String QAT = "--qat";
  public static final String PROGRESSIVE = "--progressive";
  public static final String NO_DISTILLATION = "--no-distillation";
  public static final String WORKERS = "--workers";
  public static final String RANK = "--rank";
  public static final String MASTER = "--master";
  public static final String REPORT = "--report";
  public static final String EXPECT_SHA256 = "--expect-sha256";
  public static final String VARIANT = "--variant";
  public static final String VARIANT_SHA256 = "--variant-sha256";
  public static final String JSON = "--json";

  /**
   * The environment variable naming the file Kubernetes reads as the container's termination
   * message: sparsify writes its result (or its error) there.
   */
  public static final String TERMINATION_LOG_ENV = "SPARSIFY_TERMINATION_LOG";

  /** Kubernetes keeps at most this many bytes of a termination message. */
  public static final int TERMINATION_MESSAGE_LIMIT = 4096;
}

package io.sparserollout.stage;

import java.util.Set;

/**
 * The metrics the inference pod registers (Micrometer names) and the operator reads back from their
 * Prometheus exposition ({@code _total}, {@code _seconds_bucket}, {@code _sum} and {@code _count}
 * are the Prometheus registry's suffixes).
 */
public final class ServingMetrics {
  private ServingMetrics() {}

  /** Requests answered, labelled {@link #MODEL} and {@link #OUTCOME}. */
  public static final String REQUESTS = "inference_requests";

  /** Time from a request's arrival to its answer, a histogram in seconds. */
  public static final String REQUEST_DURATION = "inference_request_duration";

  /** Agreement (cosine) of this pod's outputs with the stable model's on shadowed requests. */
  public static final String SHADOW_AGREEMENT = "shadow_agreement";

  /**
   * The sum of the squared disagreements (1 - agreement)², a counter beside {@link
   * #SHADOW_AGREEMENT}: with its sum and count it gives the agreement's variance, and so the
   * confidence interval of its mean. Disagreements, not agreements: near 1 the squared agreements
   * would be a large number the variance is a tiny difference of, lost to one sample's skew between
   * the counters.
   */
  public static final String SHADOW_DISAGREEMENT_SQUARES = "shadow_disagreement_squares";

  /** Shadowed requests, labelled {@link #OUTCOME}. */
  public static final String SHADOW_REQUESTS = "shadow_requests";

  /**
   * Requests the model has taken and not yet answered (queued or computing), a gauge: the load an
   * autoscaler's in-flight target is set against.
   */
  public static final String IN_FLIGHT = "inference_in_flight_requests";

  /** Input samples this pod captured into the store (opt-in capture). */
  public static final String CAPTURE_SAMPLES = "capture_samples";

  /**
   * Samples capture picked but did not keep, labelled {@link #REASON}: limit and size count rows,
   * busy and error count requests.
   */
  public static final String CAPTURE_DROPPED = "capture_dropped_samples";

  public static final String MODEL = "model";
  public static final String REASON = "reason";
  public static final String OUTCOME = "outcome";

  /** Whose a request's outcome was: only {@link #SERVER_ERROR} counts against a canary. */
  public static final String SUCCESS = "success";

  public static final String CLIENT_ERROR = "client_error";
  public static final String OVERLOADED = "overloaded";
  public static final String SERVER_ERROR = "server_error";

  /** How pods before the outcome split labelled every failure; still the server's. */
  public static final String LEGACY_ERROR = "error";

  public static final Set<String> SERVER_FAILURES = Set.of(SERVER_ERROR, LEGACY_ERROR);

  // As the Prometheus registry exposes them.
  public static final String REQUESTS_TOTAL = REQUESTS + "_total";
  public static final String REQUEST_DURATION_BUCKET = REQUEST_DURATION + "_seconds_bucket";
  public static final String SHADOW_AGREEMENT_SUM = SHADOW_AGREEMENT + "_sum";
  public static final String SHADOW_AGREEMENT_COUNT = SHADOW_AGREEMENT + "_count";
  public static final String SHADOW_DISAGREEMENT_SQUARES_TOTAL =
      SHADOW_DISAGREEMENT_SQUARES + "_total";
}

package io.sparserollout.stage;

/**
 * How far a long stage has come, served as JSON by its pod at {@link #PATH} on the port named by
 * {@link #PORT_ENV} while it runs: the operator reads it into status without exec or API access
 * from the pod.
 *
 * @param step the last step done (0 before the first)
 * @param heldOutFidelity the held-out fidelity last measured (the starting model's at first)
 * @param secondsLeft the time left at the pace so far (null: no step done yet)
 */
public record StageProgress(
    String stage, int step, int steps, Double heldOutFidelity, double seconds, Double secondsLeft) {
  public static final String PATH = "/progress";

  /** The port the stage serves its progress on; unset: it serves nothing. */
  public static final String PORT_ENV = "SPARSIFY_PROGRESS_PORT";
}

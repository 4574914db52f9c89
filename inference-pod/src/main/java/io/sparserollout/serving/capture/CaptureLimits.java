package io.sparserollout.serving.capture;

import java.time.Duration;

/**
 * What capture may keep: a fraction of requests, at most so many samples per clock hour and in all,
 * each hour kept for the retention. {@code enabled} false keeps deleting expired hours only.
 */
public record CaptureLimits(
    boolean enabled, double fraction, long maxPerHour, long maxTotal, Duration retention) {

  public CaptureLimits {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException("capture fraction must be in [0, 1]: " + fraction);
    }
    if (maxPerHour < 1 || maxTotal < 1) {
      throw new IllegalArgumentException("capture limits must be at least 1");
    }
    if (retention.compareTo(Duration.ofHours(1)) < 0) {
      throw new IllegalArgumentException(
          "capture retention must be at least an hour: " + retention);
    }
  }
}

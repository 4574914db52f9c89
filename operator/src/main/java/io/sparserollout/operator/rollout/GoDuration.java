package io.sparserollout.operator.rollout;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as the spec writes them (CanaryStep.DURATION_PATTERN): 30s, 5m, 1h30m. */
public final class GoDuration {
  private static final Pattern PART = Pattern.compile("([0-9]+)([hms])");

  private GoDuration() {}

  public static Duration parse(String text) {
    Duration total = Duration.ZERO;
    Matcher m = PART.matcher(text);
    int end = 0;
    while (m.find()) {
      if (m.start() != end) {
        break;
      }
      long n = Long.parseLong(m.group(1));
      total =
          total.plus(
              switch (m.group(2)) {
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofSeconds(n);
              });
      end = m.end();
    }
    if (end == 0 || end != text.length()) {
      throw new IllegalArgumentException("not a duration like 30s, 5m or 1h30m: " + text);
    }
    return total;
  }
}

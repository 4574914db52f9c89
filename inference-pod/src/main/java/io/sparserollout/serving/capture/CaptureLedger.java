package io.sparserollout.serving.capture;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * How many samples each captured clock hour holds, all pods together: the one record the limits are
 * checked against. Immutable; every decision takes the time it is made at.
 */
public record CaptureLedger(SortedMap<String, Long> hours) {
  /** An hour's folder name: UTC, sortable, no characters a file system or URI minds. */
  static final DateTimeFormatter HOUR =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH").withZone(ZoneOffset.UTC);

  static final Pattern HOUR_NAME = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}");

  public CaptureLedger {
    hours = Collections.unmodifiableSortedMap(new TreeMap<>(hours));
  }

  public static CaptureLedger empty() {
    return new CaptureLedger(new TreeMap<>());
  }

  public static String hour(Instant now) {
    return HOUR.format(now);
  }

  /** Every key an hour and every count a count: else the ledger is counted again from files. */
  boolean valid() {
    return hours.entrySet().stream()
        .allMatch(
            e ->
                e.getKey() != null
                    && HOUR_NAME.matcher(e.getKey()).matches()
                    && e.getValue() != null
                    && e.getValue() >= 0);
  }

  public long total() {
    return hours.values().stream().mapToLong(Long::longValue).sum();
  }

  /** How many of {@code rows} samples may be kept now: what both limits leave, at most all. */
  public long room(Instant now, long rows, CaptureLimits limits) {
    long thisHour = hours.getOrDefault(hour(now), 0L);
    long left = Math.min(limits.maxPerHour() - thisHour, limits.maxTotal() - total());
    return Math.max(0, Math.min(rows, left));
  }

  public CaptureLedger plus(Instant now, long rows) {
    SortedMap<String, Long> next = new TreeMap<>(hours);
    next.merge(hour(now), rows, Long::sum);
    return new CaptureLedger(next);
  }

  /** The hours wholly older than the retention at {@code now}: to delete. */
  public static List<String> expired(Iterable<String> hours, Instant now, Duration retention) {
    List<String> expired = new ArrayList<>();
    for (String hour : hours) {
      Instant end = start(hour).plus(1, ChronoUnit.HOURS);
      if (!end.plus(retention).isAfter(now)) {
        expired.add(hour);
      }
    }
    return expired;
  }

  public CaptureLedger without(List<String> gone) {
    SortedMap<String, Long> next = new TreeMap<>(hours);
    gone.forEach(next::remove);
    return new CaptureLedger(next);
  }

  static Instant start(String hour) {
    return Instant.parse(hour + ":00:00Z");
  }
}

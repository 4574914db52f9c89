package io.sparserollout.serving.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CaptureLedgerTest {
  private static final CaptureLimits LIMITS = new CaptureLimits(true, 1, 5, 8, Duration.ofHours(2));
  private static final Instant T = Instant.parse("2026-12-06T06:59:00Z");

  @Test
  void anHourTakesAtMostItsLimitAndTheTotalCapsEveryHour() {
    CaptureLedger ledger = CaptureLedger.empty();
    assertThat(ledger.room(T, 3, LIMITS)).isEqualTo(3);
    ledger = ledger.plus(T, 3);
    assertThat(ledger.room(T, 3, LIMITS)).as("5 an hour").isEqualTo(2);
    ledger = ledger.plus(T, 2);
    assertThat(ledger.room(T, 1, LIMITS)).isZero();

    Instant nextHour = T.plusSeconds(60);
    assertThat(CaptureLedger.hour(nextHour)).isEqualTo("2026-12-06T07");
    assertThat(ledger.room(nextHour, 5, LIMITS)).as("8 in all, 5 kept").isEqualTo(3);
    ledger = ledger.plus(nextHour, 3);
    assertThat(ledger.total()).isEqualTo(8);
    assertThat(ledger.room(nextHour.plusSeconds(3600), 1, LIMITS)).isZero();
  }

  @Test
  void anHourExpiresOnceItsEndIsOlderThanTheRetention() {
    List<String> hours = List.of("2026-12-06T03", "2026-12-06T04", "2026-12-06T05");
    // 06:59: hour 04 ended at 05:00, 1 h 59 min ago; hour 03 ended 2 h 59 min ago.
    assertThat(CaptureLedger.expired(hours, T, LIMITS.retention()))
        .containsExactly("2026-12-06T03");
    assertThat(
            CaptureLedger.expired(hours, Instant.parse("2026-12-06T07:00:00Z"), LIMITS.retention()))
        .containsExactly("2026-12-06T03", "2026-12-06T04");
  }

  @Test
  void expiredHoursFreeRoomInTheTotal() {
    CaptureLedger ledger = CaptureLedger.empty().plus(Instant.parse("2026-12-06T03:10:00Z"), 8);
    assertThat(ledger.room(T, 1, LIMITS)).isZero();
    assertThat(ledger.without(List.of("2026-12-06T03")).room(T, 1, LIMITS)).isEqualTo(1);
  }
}

package io.sparserollout.stage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * What a stage read from the samples the serving pods captured: how many it used, how many lines it
 * could not read (a pod stopped mid-write), and the UTC clock hours they came from ({@code
 * yyyy-MM-ddTHH}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CapturedData(Integer samples, Integer unreadable, String firstHour, String lastHour) {

  /** Which captured samples a stage reads: calibration and held-out ones never overlap. */
  public enum Part {
    ALL("all"),
    CALIBRATION("calibration"),
    HELD_OUT("held-out");

    private final String option;

    Part(String option) {
      this.option = option;
    }

    /** As the command line spells it. */
    public String option() {
      return option;
    }

    public static Part of(String option) {
      for (Part part : values()) {
        if (part.option.equals(option)) {
          return part;
        }
      }
      throw new IllegalArgumentException(
          "not a part of captured data: " + option + " (all, calibration or held-out)");
    }
  }
}

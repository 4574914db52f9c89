package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The shipped alerting rules, checked and unit-tested by Prometheus' own promtool (Debian's). */
class AlertRulesIT {
  private static final Path DIR = Path.of("../manifests/monitoring").toAbsolutePath().normalize();

  @Test
  void promtoolAcceptsTheRulesAndTheirUnitTestsPass() throws Exception {
    String promtool = promtool();

    String check = run(promtool, "check", "rules", DIR.resolve("alerts.rules.yaml").toString());
    String tests = run(promtool, "test", "rules", DIR.resolve("alerts_test.yaml").toString());

    assertThat(check).contains("SUCCESS: 12 rules found");
    assertThat(tests).contains("SUCCESS");
  }

  /** Each dashboard query, its variables set to match all, parses as PromQL for promtool. */
  @Test
  void everyDashboardQueryIsPromQlPromtoolAccepts() throws Exception {
    var dashboard =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(DIR.resolve("grafana-dashboard.json").toFile());
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    int count = 0;
    for (var panel : dashboard.get("panels")) {
      for (var target : panel.get("targets")) {
        String expr =
            target.get("expr").asText().replace("$namespace", ".*").replace("$model", ".*");
        rules
            .append("      - record: dashboard:query_")
            .append(++count)
            .append("\n        expr: '")
            .append(expr.replace("'", "''"))
            .append("'\n");
      }
    }
    Path file = java.nio.file.Files.createTempFile("dashboard-queries", ".yaml");
    java.nio.file.Files.writeString(file, rules);

    assertThat(run(promtool(), "check", "rules", file.toString()))
        .contains("SUCCESS: " + count + " rules found");
    assertThat(count).isEqualTo(10);
  }

  private static String run(String... command) throws Exception {
    Process process =
        new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    return output;
  }

  private static String promtool() throws Exception {
    Process script =
        new ProcessBuilder("../scripts/prometheus.sh", "promtool")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String path =
        new String(script.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(script.waitFor()).as("scripts/prometheus.sh promtool").isZero();
    return path;
  }
}

package io.sparserollout.sparsify.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.stage.StageProgress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** The progress endpoint over real HTTP, as the operator reads it. */
class ProgressEndpointTest {
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void servesTheLatestProgressAsJsonAndNothingElse() throws Exception {
    try (ProgressEndpoint endpoint = ProgressEndpoint.on("0")) {
      String base = "http://127.0.0.1:" + endpoint.port();
      assertThat(get(base + "/progress").statusCode()).isEqualTo(503);

      endpoint.update(new StageProgress("finetune", 3, 100, 0.91, 12.5, 400.0));
      endpoint.update(new StageProgress("finetune", 4, 100, 0.92, 15.0, 360.0));
      HttpResponse<String> answer = get(base + "/progress");

      assertThat(answer.statusCode()).isEqualTo(200);
      assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(answer.body()).contains("\"step\":4", "\"steps\":100", "\"heldOutFidelity\":0.92");
      assertThat(get(base + "/metrics").statusCode()).isEqualTo(404);
      var post =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/progress"))
                  .POST(HttpRequest.BodyPublishers.ofString("x"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
    }
  }

  /** Progress is only shown: no port, a bad one or one taken leaves the stage running. */
  @Test
  void noPortABadOneOrOneTakenServesNothing() throws Exception {
    try (ProgressEndpoint none = ProgressEndpoint.on(null)) {
      none.update(new StageProgress("finetune", 1, 2, null, 1.0, null));
      assertThat(none.port()).isEqualTo(-1);
    }
    for (String bad : java.util.List.of("eighty", "70000")) {
      try (ProgressEndpoint none = ProgressEndpoint.on(bad)) {
        assertThat(none.port()).isEqualTo(-1);
      }
    }
    try (var taken = new java.net.ServerSocket(0);
        ProgressEndpoint none = ProgressEndpoint.on(String.valueOf(taken.getLocalPort()))) {
      assertThat(none.port()).isEqualTo(-1);
    }
  }

  private HttpResponse<String> get(String uri) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(uri)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }
}

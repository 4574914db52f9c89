package io.sparserollout.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparserollout.serving.backend.Backends;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ModelServicePlansTest {
  @Test
  void otherPlansReadAsTheOperatorWritesThemAndAnythingElseStopsThePodSayingWhy() {
    assertThat(
            ModelService.plans(
                "[{\"path\":\"/models/gpu-1/model.plan\",\"sha256\":\"sha256:l\"},"
                    + "{\"path\":\"/models/gpu-2/model.plan\"}]"))
        .containsExactly(
            new Backends.Plan(Path.of("/models/gpu-1/model.plan"), "sha256:l"),
            new Backends.Plan(Path.of("/models/gpu-2/model.plan"), null));
    assertThatThrownBy(() -> ModelService.plans("/models/gpu-1/model.plan"))
        .hasMessageStartingWith("OTHER_PLANS is not a JSON array of plans");
    assertThatThrownBy(() -> ModelService.plans("[{\"sha256\":\"sha256:l\"}]"))
        .hasMessageStartingWith("OTHER_PLANS: every plan needs a path");
  }
}

package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.sparserollout.api.v1alpha1.ArtifactStore;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The pipeline revision of a spec: a short hash of everything that changes the produced model.
 * Rollout settings are left out, so changing replicas or canary steps re-serves, not re-prunes.
 */
public final class Revision {
  private static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          // An optional field added later leaves the revisions of specs that do not set it alone.
          .serializationInclusion(JsonInclude.Include.NON_NULL)
          .build();

  private Revision() {}

  public static String of(SparseModelSpec spec) {
    SparseModelSpec pipelineOnly =
        new SparseModelSpec(
            spec.source(),
            // Where artifacts live changes them; how the store is reached does not.
            new ArtifactStore(
                spec.artifactStore().uri(),
                spec.artifactStore().endpoint(),
                null,
                null,
                null,
                null),
            spec.sparsity(),
            spec.quantization(),
            spec.fineTuning(),
            spec.engine(),
            spec.evaluation(),
            spec.gate(),
            null);
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(CANONICAL.writeValueAsString(pipelineOnly).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 5);
    } catch (NoSuchAlgorithmException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}

package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Map;

/** CPU and memory for a container the operator creates. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ComputeResources(
    @JsonPropertyDescription(
            "Minimum resources, e.g. {cpu: \"2\", memory: 4Gi}. GPU requests are added by the"
                + " operator from spec.engine.gpu.")
        Map<String, Quantity> requests,
    @JsonPropertyDescription("Maximum resources, e.g. {memory: 8Gi}.")
        Map<String, Quantity> limits) {}

package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** The Gateway API Gateway whose HTTPRoute carries the canary's traffic split. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GatewayRef(
    @Required @JsonPropertyDescription("Name of the Gateway.") String name,
    @JsonPropertyDescription("Namespace of the Gateway; unset: the SparseModel's namespace.")
        String namespace,
    @JsonPropertyDescription("Listener of the Gateway to attach to; unset: every listener.")
        String sectionName,
    @JsonPropertyDescription(
            "Host names the route answers for (HTTPRoute hostnames); unset: every host name of"
                + " the listener. Only /v2/models/<name> is routed either way.")
        java.util.List<String> hostnames) {}

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
        java.util.List<String> hostnames,
    @JsonPropertyDescription(
            "Listener of the Gateway for gRPC: a GRPCRoute with the same weights and host names"
                + " attaches there. It must be another listener than the HTTPRoute's (the Gateway"
                + " API accepts only one of an HTTPRoute and a GRPCRoute sharing a listener's host"
                + " names). Unset: no GRPCRoute.")
        String grpcSectionName) {}

package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** The model store that holds every artifact the pipeline produces. */
public record ArtifactStore(
    @Required
        @Pattern("^(pvc|s3)://[^\\s]+$")
        @JsonPropertyDescription(
            "Prefix under which artifacts are written: pvc://<claim>/<dir> or s3://<bucket>/<prefix>."
                + " Each revision writes under its own sub-directory.")
        String uri,
    @JsonPropertyDescription(
            "S3 endpoint URL for S3-compatible stores (MinIO, Ceph, S3Proxy); empty means AWS S3."
                + " Must be https unless allowInsecureHttp is true.")
        String endpoint,
    @JsonPropertyDescription(
            "Name of a Secret in the same namespace with AWS_ACCESS_KEY_ID and"
                + " AWS_SECRET_ACCESS_KEY (and optionally AWS_SESSION_TOKEN) for s3:// stores."
                + " Leave empty when serviceAccountName brings credentials (IRSA, EKS Pod"
                + " Identity).")
        String credentialsSecret,
    @JsonPropertyDescription(
            "ServiceAccount the stage Jobs and serving pods run as, for web-identity (IRSA) or"
                + " pod-identity credentials to S3. Its API token is still not mounted.")
        String serviceAccountName,
    @JsonPropertyDescription("AWS region of the bucket (AWS_REGION); empty means us-east-1.")
        String region,
    @JsonPropertyDescription(
            "Allow a plain http endpoint (credentials and artifacts then cross the network in"
                + " clear). Off by default: an http endpoint is refused.")
        Boolean allowInsecureHttp) {}

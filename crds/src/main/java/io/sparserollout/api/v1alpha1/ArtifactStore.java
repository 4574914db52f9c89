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
            "S3 endpoint URL for S3-compatible stores (MinIO, S3Proxy); empty means AWS S3.")
        String endpoint,
    @JsonPropertyDescription(
            "Name of a Secret in the same namespace with AWS_ACCESS_KEY_ID and"
                + " AWS_SECRET_ACCESS_KEY for s3:// stores.")
        String credentialsSecret) {}

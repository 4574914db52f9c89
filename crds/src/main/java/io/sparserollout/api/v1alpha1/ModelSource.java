package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** The dense model and its preprocessing. */
public record ModelSource(
    @Required
        @Pattern(ModelSource.URI_PATTERN)
        @JsonPropertyDescription(
            "URI of the dense model: pvc://<claim>/<path>, s3://<bucket>/<key> or"
                + " https://<host>/<path>.")
        String uri,
    @Default("onnx") @JsonPropertyDescription("Format of the dense model.") Format format,
    @Pattern(ModelSource.URI_PATTERN)
        @JsonPropertyDescription(
            "URI of the Hugging Face tokenizer.json used to turn text into model inputs; omit for"
                + " models that take tensors directly.")
        String tokenizerUri,
    @Default("128")
        @Min(1)
        @Max(8192)
        @JsonPropertyDescription(
            "Longest token sequence fed to the model; longer text is truncated.")
        Integer maxSequenceLength,
    @Default("embedding")
        @JsonPropertyDescription(
            "What the model's first output is. embedding: hidden states [batch, sequence,"
                + " hidden], compared mean-pooled over the tokens (cosine, nearest neighbours)."
                + " classification: logits [batch, classes], compared on the predicted class"
                + " (top-1 agreement, accuracy against labels; the canary's shadow agreement is"
                + " the share of mirrored requests given the dense model's class). ranking: a"
                + " score per (query, document) pair [batch, 1], the data's lines"
                + " query<TAB>document in the tokenizer's pair encoding, compared one query's"
                + " documents at a time (the same first document, NDCG and PNR against graded"
                + " labels; a mirrored request is one query's documents and agrees when the"
                + " canary puts the same document first). tensor: any outputs of tensor inputs"
                + " (.npz data, no tokenizer), compared output by output as they are (the mean"
                + " cosine of each sample's values, and the largest absolute difference); the"
                + " gate reads the worst output's cosine (cosine-fidelity), and the canary's shadow"
                + " agreement is the cosine of each output's rows.")
        Task task) {

  /** The source as before tasks: an embedding model. */
  public ModelSource(String uri, Format format, String tokenizerUri, Integer maxSequenceLength) {
    this(uri, format, tokenizerUri, maxSequenceLength, null);
  }

  /** The task; absent means embedding, what every model was before tasks. */
  public Task taskOrDefault() {
    return task == null ? Task.EMBEDDING : task;
  }

  public enum Task {
    @JsonProperty("embedding")
    EMBEDDING,
    @JsonProperty("classification")
    CLASSIFICATION,
    @JsonProperty("ranking")
    RANKING,
    @JsonProperty("tensor")
    TENSOR
  }

  /** pvc://, s3:// or http(s):// followed by at least one character. */
  public static final String URI_PATTERN = "^(pvc|s3|https?)://[^\\s]+$";

  public enum Format {
    @JsonProperty("onnx")
    ONNX
  }
}

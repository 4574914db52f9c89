package io.sparserollout.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShadowAgreementTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aRankerAgreesWhenTheSameDocumentComesFirstWhateverTheScoresAre() throws Exception {
    ShadowAgreement ranker = ShadowAgreement.of("top1-document");
    List<Tensor> ours = List.of(scores(0.1f, 0.9f, 0.3f));

    // Other scores, shifted and scaled, but the second document first: agreement.
    assertThat(ranker.compare(ours, theirs(5.0, 7.5, 6.0))).isEqualTo(1.0);
    // The third first: no agreement, though each score is close.
    assertThat(ranker.compare(ours, theirs(0.1, 0.88, 0.89))).isZero();
  }

  @Test
  void anAnswerThatDoesNotMatchIsNoEvidenceRatherThanADisagreement() throws Exception {
    ShadowAgreement ranker = ShadowAgreement.of("top1-document");
    List<Tensor> ours = List.of(scores(0.1f, 0.9f, 0.3f));

    // The baseline answered two scores for three documents, or under another name: NaN, which
    // the shadow counts failed; 0 would have pulled the canary's agreement down.
    assertThat(ranker.compare(ours, theirs(0.1, 0.9))).isNaN();
    assertThat(ranker.compare(ours, theirs("logits", 0.1, 0.9, 0.3))).isNaN();
    assertThat(ShadowAgreement.of("cosine").compare(ours, theirs("logits", 1, 2, 3))).isNaN();
  }

  @Test
  void aSingleDocumentHasNoOrderAndIsNotMirrored() {
    assertThat(ShadowAgreement.of("top1-document").comparable(List.of(scores(0.4f)))).isFalse();
    assertThat(ShadowAgreement.of("top1-document").comparable(List.of(scores(0.4f, 0.2f))))
        .isTrue();
    // A classifier's or an embedding's single row is compared on its own.
    assertThat(ShadowAgreement.of("top1").comparable(List.of(scores(0.4f)))).isTrue();
    assertThat(ShadowAgreement.of("cosine").comparable(List.of(scores(0.4f)))).isTrue();
  }

  @Test
  void aClassifiersRowsAreComparedEachOnItsOwnClass() throws Exception {
    ShadowAgreement classifier = ShadowAgreement.of("top1");
    Tensor logits =
        new Tensor("logits", Datatype.FP32, new long[] {2, 2}, new float[] {1, 2, 3, 1});

    assertThat(classifier.compare(List.of(logits), theirs("logits", 0, 5, 0, 5))).isEqualTo(0.5);
  }

  @Test
  void twoAllZeroRowsAgreeAsTheGateCountsThemAndOneAllZeroRowDoesNot() throws Exception {
    ShadowAgreement cosine = ShadowAgreement.of("cosine");
    Tensor maps = new Tensor("map", Datatype.FP32, new long[] {2, 2}, new float[] {0, 0, 0, 0});

    assertThat(cosine.compare(List.of(maps), theirs("map", 0, 0, 0, 0.5))).isEqualTo(0.5);
  }

  private static Tensor scores(float... values) {
    return new Tensor("score", Datatype.FP32, new long[] {values.length, 1}, values);
  }

  private static JsonNode theirs(double... values) throws Exception {
    return theirs("score", values);
  }

  private static JsonNode theirs(String name, double... values) throws Exception {
    return JSON.readTree(
        JSON.writeValueAsString(List.of(java.util.Map.of("name", name, "data", values))));
  }
}

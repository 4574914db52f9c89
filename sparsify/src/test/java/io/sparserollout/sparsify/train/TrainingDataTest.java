package io.sparserollout.sparsify.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparserollout.sparsify.text.TextTokenizer;
import io.sparserollout.sparsify.text.TokenBatch;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingDataTest {
  @Test
  void eachLabelStaysWithItsSentenceThroughLengthGroupingAndShuffling(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("tokenizer.json");
    try (InputStream in =
        getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, file);
    }
    List<String> sentences = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (int i = 0; i < 23; i++) {
      // Lengths vary against the order, so grouping by length moves every sentence.
      sentences.add("word ".repeat(1 + (i * 7) % 11) + "number " + i);
      labels.add(i % 3 == 0 ? "fizz" : "plain");
    }

    TrainingData data;
    Map<Long, String> labelOfFirstId = new HashMap<>();
    try (TextTokenizer tokens = TextTokenizer.load(file, 64)) {
      data = TrainingData.of(tokens, sentences, labels, 4, 7L);
      for (int i = 0; i < sentences.size(); i++) {
        TokenBatch one = tokens.encode(List.of(sentences.get(i)));
        labelOfFirstId.put(numberToken(one, 0), labels.get(i));
      }
    }

    assertThat(data.classes()).containsExactly("fizz", "plain");
    assertThat(data.batches()).hasSize(6);
    int seen = 0;
    for (int b = 0; b < data.batches().size(); b++) {
      TokenBatch batch = (TokenBatch) data.batches().get(b);
      int[] classes = data.labels().get(b);
      assertThat(classes).hasSize(batch.size());
      for (int row = 0; row < batch.size(); row++) {
        String expected = labelOfFirstId.get(numberToken(batch, row));
        assertThat(data.classes().get(classes[row])).isEqualTo(expected);
        seen++;
      }
    }
    assertThat(seen).isEqualTo(23);
  }

  /** The token of the sentence's number: the last real token before [SEP]. */
  private static long numberToken(TokenBatch batch, int row) {
    int last = 0;
    for (int t = 0; t < batch.length(); t++) {
      if (batch.attentionMask()[row * batch.length() + t] == 1) {
        last = t;
      }
    }
    return batch.ids()[row * batch.length() + last - 1];
  }
}

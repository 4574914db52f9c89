// Sends each line of a sentences file to an Open Inference Protocol v2 server as one request of
// one row, tokenized as a client would (sparsify's tokenizer on the classpath):
//   java -cp sparsify/target/sparsify.jar scripts/lib/SendSentences.java TOKENIZER FILE INFER_URL
// Prints how many were answered 200; any other answer stops it.
import io.sparserollout.sparsify.text.TextTokenizer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

public class SendSentences {
  public static void main(String[] args) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    int sent = 0;
    try (TextTokenizer tokenizer = TextTokenizer.load(Path.of(args[0]), 128)) {
      for (String sentence : Files.readAllLines(Path.of(args[1]))) {
        if (sentence.isBlank()) {
          continue;
        }
        var row = tokenizer.encode(List.of(sentence.strip()));
        String shape = "[1, " + row.length() + "]";
        String body =
            "{\"inputs\": ["
                + tensor("input_ids", shape, row.ids())
                + ", "
                + tensor("attention_mask", shape, row.attentionMask())
                + ", "
                + tensor("token_type_ids", shape, row.typeIds())
                + "]}";
        HttpResponse<String> answer =
            http.send(
                HttpRequest.newBuilder(URI.create(args[2]))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() != 200) {
          throw new IllegalStateException(answer.statusCode() + " " + answer.body());
        }
        sent++;
      }
    }
    System.out.println(sent);
  }

  private static String tensor(String name, String shape, long[] data) {
    return "{\"name\": \"" + name + "\", \"datatype\": \"INT64\", \"shape\": " + shape
        + ", \"data\": " + Arrays.toString(data) + "}";
  }
}

import io.sparserollout.sparsify.text.NpzFile;
import io.sparserollout.sparsify.text.OrtModel;
import io.sparserollout.sparsify.text.TensorBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Whether a candidate text recognizer reads the same text as the dense one: each crop's output
 * ([N, positions, characters], PaddleOCR's CTC probabilities) decoded greedily (the likeliest
 * character at each position, repeats merged, the blank, index 0, dropped), and the share of crops
 * whose decoded characters are the dense model's; also the share of positions with the same
 * likeliest character. Run with the sparsify jar on the class path.
 *
 * <p>Usage: java -cp sparsify.jar CtcAgreement.java DENSE.onnx CANDIDATE.onnx CROPS.npz
 */
public class CtcAgreement {
  public static void main(String[] args) {
    var arrays = NpzFile.read(Path.of(args[2]), "crops");
    List<TensorBatch> batches = NpzFile.batches(arrays, 0, 0, 32);
    int crops = 0;
    int sameText = 0;
    int read = 0;
    long positions = 0;
    long samePositions = 0;
    try (OrtModel dense = OrtModel.open(Path.of(args[0]), 2);
        OrtModel candidate = OrtModel.open(Path.of(args[1]), 2)) {
      for (TensorBatch batch : batches) {
        OrtModel.FloatTensor d = dense.run(batch, Set.of(dense.firstOutput())).get(dense.firstOutput());
        OrtModel.FloatTensor c =
            candidate.run(batch, Set.of(candidate.firstOutput())).get(candidate.firstOutput());
        int steps = (int) d.shape()[1];
        int classes = (int) d.shape()[2];
        for (int b = 0; b < batch.size(); b++) {
          int[] dBest = best(d.data(), b, steps, classes);
          int[] cBest = best(c.data(), b, steps, classes);
          for (int t = 0; t < steps; t++) {
            samePositions += dBest[t] == cBest[t] ? 1 : 0;
          }
          positions += steps;
          List<Integer> dText = decode(dBest);
          sameText += dText.equals(decode(cBest)) ? 1 : 0;
          read += dText.isEmpty() ? 0 : 1;
          crops++;
        }
      }
    }
    System.out.printf(
        "decoded text: %d of %d crops read as the dense model reads them (%.3f; the dense model"
            + " reads text in %d); likeliest character per position: %.3f the same%n",
        sameText, crops, (double) sameText / crops, read, (double) samePositions / positions);
  }

  private static int[] best(float[] data, int sample, int steps, int classes) {
    int[] best = new int[steps];
    for (int t = 0; t < steps; t++) {
      int offset = (sample * steps + t) * classes;
      for (int k = 1; k < classes; k++) {
        if (data[offset + k] > data[offset + best[t]]) {
          best[t] = k;
        }
      }
    }
    return best;
  }

  private static List<Integer> decode(int[] best) {
    List<Integer> text = new ArrayList<>();
    for (int t = 0; t < best.length; t++) {
      if (best[t] != 0 && (t == 0 || best[t] != best[t - 1])) {
        text.add(best[t]);
      }
    }
    return text;
  }
}

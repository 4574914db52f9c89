package io.sparserollout.sparsify.head;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PairwiseRankerTest {
  /**
   * Grades made by a weighing the plain cosine gets wrong (half the dimensions count against
   * relevance): training learns the order, on documents it did not train on too.
   */
  @Test
  void trainingLearnsAnOrderThePlainCosineMisses() {
    Random random = new Random(7);
    int width = 16;
    double[] truth = new double[width];
    for (int f = 0; f < width; f++) {
      truth[f] = f % 2 == 0 ? 1 : -1;
    }
    Data train = data(random, truth, 40);
    Data heldOut = data(random, truth, 20);
    List<int[]> trainPairs = PairwiseRanker.orderedPairs(train.groups, train.grades);
    List<int[]> heldOutPairs = PairwiseRanker.orderedPairs(heldOut.groups, heldOut.grades);

    PairwiseRanker.Weights trained = PairwiseRanker.train(train.x, trainPairs, 300, 0.001);

    double cosine =
        PairwiseRanker.pairAccuracy(PairwiseRanker.cosine(width), heldOut.x, heldOutPairs);
    double learned = PairwiseRanker.pairAccuracy(trained, heldOut.x, heldOutPairs);
    assertThat(cosine).isLessThan(0.7);
    assertThat(learned).isGreaterThan(0.9);
    assertThat(trained.bias()).isZero(); // a shift of a query's scores changes no order
  }

  @Test
  void onlyDocumentsOfTheSameQueryWithDifferentGradesArePaired() {
    List<List<Integer>> groups = List.of(List.of(0, 1, 2), List.of(3, 4));
    int[] grades = {2, 0, 2, 1, 0};

    assertThat(PairwiseRanker.orderedPairs(groups, grades))
        .containsExactlyInAnyOrder(new int[] {0, 1}, new int[] {2, 1}, new int[] {3, 4});
  }

  private record Data(float[][] x, List<List<Integer>> groups, int[] grades) {}

  /** Queries of 6 documents each, graded 2, 1, 0 by the true score's rank in the query. */
  private static Data data(Random random, double[] truth, int queries) {
    int width = truth.length;
    float[][] x = new float[queries * 6][width];
    int[] grades = new int[x.length];
    List<List<Integer>> groups = new ArrayList<>();
    for (int q = 0; q < queries; q++) {
      List<Integer> group = new ArrayList<>();
      double[] scores = new double[6];
      for (int d = 0; d < 6; d++) {
        int i = q * 6 + d;
        for (int f = 0; f < width; f++) {
          x[i][f] = (float) (random.nextGaussian() * 0.1);
          scores[d] += truth[f] * x[i][f];
        }
        group.add(i);
      }
      for (int d = 0; d < 6; d++) {
        int above = 0;
        for (int e = 0; e < 6; e++) {
          above += scores[e] > scores[d] ? 1 : 0;
        }
        grades[q * 6 + d] = above < 2 ? 2 : above < 4 ? 1 : 0;
      }
      groups.add(group);
    }
    return new Data(x, groups, grades);
  }
}

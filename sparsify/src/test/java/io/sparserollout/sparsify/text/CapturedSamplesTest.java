package io.sparserollout.sparsify.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.stage.CapturedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class CapturedSamplesTest {
  @TempDir Path dir;

  /** A captured row as the inference pod writes it: a v2 request of one row. */
  public static String row(long[] ids, long[] mask) {
    StringBuilder line = new StringBuilder("{\"inputs\":[");
    line.append(tensor("input_ids", ids)).append(',').append(tensor("attention_mask", mask));
    line.append(',').append(tensor("token_type_ids", new long[ids.length])).append("]}");
    return line.toString();
  }

  private static String tensor(String name, long[] data) {
    return "{\"name\":\""
        + name
        + "\",\"datatype\":\"INT64\",\"shape\":[1,"
        + data.length
        + "],\"data\":"
        + java.util.Arrays.toString(data).replace(" ", "")
        + "}";
  }

  public static void write(Path folder, String hour, String pod, List<String> lines)
      throws Exception {
    Path file = Files.createDirectories(folder.resolve(hour)).resolve(pod + ".jsonl");
    Files.write(
        file,
        lines,
        java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.APPEND);
  }

  @Test
  void calibrationAndHeldOutSplitEverySampleOnceAndNewestHoursComeFirst() throws Exception {
    List<String> early = new ArrayList<>();
    List<String> late = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      (i < 20 ? early : late).add(row(new long[] {101, 1000 + i, 102}, new long[] {1, 1, 1}));
    }
    write(dir, "2026-12-06T05", "pod-a", early);
    write(dir, "2026-12-06T06", "pod-b", late);

    var calibration = CapturedSamples.read(dir, CapturedData.Part.CALIBRATION, 0, 128);
    var heldOut = CapturedSamples.read(dir, CapturedData.Part.HELD_OUT, 0, 128);
    Set<Long> calibrationIds = middles(calibration.rows());
    Set<Long> heldOutIds = middles(heldOut.rows());
    assertThat(calibrationIds).doesNotContainAnyElementsOf(heldOutIds);
    assertThat(calibrationIds.size() + heldOutIds.size()).isEqualTo(40);
    assertThat(calibrationIds).isNotEmpty();
    assertThat(heldOutIds).isNotEmpty();

    var newest = CapturedSamples.read(dir, CapturedData.Part.ALL, 5, 128);
    assertThat(newest.rows()).hasSize(5);
    assertThat(middles(newest.rows())).allMatch(id -> id >= 1020);
    assertThat(newest.data()).isEqualTo(new CapturedData(5, 0, "2026-12-06T06", "2026-12-06T06"));
    assertThat(CapturedSamples.read(dir, CapturedData.Part.ALL, 0, 128).data())
        .isEqualTo(new CapturedData(40, 0, "2026-12-06T05", "2026-12-06T06"));
  }

  @Test
  void aClientsPaddingIsDroppedAndLongRowsAreCut() throws Exception {
    write(
        dir,
        "2026-12-06T06",
        "pod-a",
        List.of(
            row(new long[] {101, 7, 102, 0, 0}, new long[] {1, 1, 1, 0, 0}),
            row(new long[] {101, 5, 6, 7, 8, 9, 102}, new long[] {1, 1, 1, 1, 1, 1, 1})));

    var rows = CapturedSamples.read(dir, CapturedData.Part.ALL, 0, 4).rows();
    assertThat(rows).extracting(r -> r.ids().length).containsExactly(3, 4);
    assertThat(rows.get(1).ids()).as("cut as the tokenizer does").containsExactly(101, 5, 6, 102);
    List<TokenBatch> batches = CapturedSamples.batches(rows, 8, true);
    assertThat(batches)
        .singleElement()
        .satisfies(
            b -> {
              assertThat(b.length()).isEqualTo(4);
              assertThat(b.attentionMask()).containsExactly(1, 1, 1, 0, 1, 1, 1, 1);
            });
  }

  @Test
  void oneSentenceSentInDifferentlyPaddedBatchesIsOneSample() throws Exception {
    write(
        dir,
        "2026-12-06T06",
        "pod-a",
        List.of(
            row(new long[] {101, 7, 102}, new long[] {1, 1, 1}),
            row(new long[] {101, 7, 102, 0}, new long[] {1, 1, 1, 0}),
            row(new long[] {101, 7, 102, 0, 0, 0}, new long[] {1, 1, 1, 0, 0, 0})));

    assertThat(CapturedSamples.read(dir, CapturedData.Part.ALL, 0, 128).rows()).hasSize(1);
    assertThat(count(CapturedData.Part.CALIBRATION) + count(CapturedData.Part.HELD_OUT))
        .as("in one half only")
        .isEqualTo(1);
  }

  private int count(CapturedData.Part part) {
    try {
      return CapturedSamples.read(dir, part, 0, 128).rows().size();
    } catch (SparsifyException none) {
      return 0;
    }
  }

  @Test
  void tornLinesAreCountedAndSkipped() throws Exception {
    write(
        dir,
        "2026-12-06T06",
        "pod-a",
        List.of(
            row(new long[] {101, 7, 102}, new long[] {1, 1, 1}), "{\"inputs\":[{\"name\":\"inp"));

    assertThat(CapturedSamples.read(dir, CapturedData.Part.ALL, 0, 128).data().unreadable())
        .isEqualTo(1);
  }

  @Test
  void nothingToReadOrInputsOfAnotherKindAreRefusedWithTheReason() throws Exception {
    assertThatThrownBy(() -> CapturedSamples.read(dir, CapturedData.Part.ALL, 0, 128))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("no captured samples");

    write(
        dir,
        "2026-12-06T06",
        "pod-a",
        List.of(
            "{\"inputs\":[{\"name\":\"pixels\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[0.5,1]}]}"));
    assertThatThrownBy(() -> CapturedSamples.read(dir, CapturedData.Part.ALL, 0, 128))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("carry inputs [pixels]");
  }

  private static Set<Long> middles(List<CapturedSamples.TokenRow> rows) {
    Set<Long> ids = new HashSet<>();
    for (var r : rows) {
      ids.add(r.ids()[1]);
    }
    return ids;
  }
}

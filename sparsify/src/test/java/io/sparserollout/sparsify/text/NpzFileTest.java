package io.sparserollout.sparsify.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparserollout.sparsify.ImageModels;
import io.sparserollout.sparsify.SparsifyException;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzFileTest {
  @TempDir Path dir;

  @Test
  void samplesAreBatchedInOrderFromTheOffsetUpToTheLimit() {
    float[] values = new float[10 * 3];
    for (int i = 0; i < values.length; i++) {
      values[i] = i;
    }
    Path file =
        ImageModels.npz(dir.resolve("x.npz"), Map.of("x", values), Map.of("x", new long[] {10, 3}));

    Map<String, NpzFile.Array> arrays = NpzFile.read(file, "data");
    List<TensorBatch> batches = NpzFile.batches(arrays, 2, 7, 4);

    assertThat(NpzFile.samples(arrays)).isEqualTo(10);
    assertThat(batches).extracting(TensorBatch::size).containsExactly(4, 3);
    TensorBatch.Input first = batches.get(0).inputs().get("x");
    assertThat(first.shape()).containsExactly(4, 3);
    FloatBuffer data = (FloatBuffer) first.values();
    assertThat(data.get(0)).isEqualTo(6f); // sample 2, first value
    assertThat(((FloatBuffer) batches.get(1).inputs().get("x").values()).get(8)).isEqualTo(26f);
  }

  @Test
  void arraysThisReaderCannotFeedAModelAreRefusedNamingThem() throws Exception {
    assertThatThrownBy(() -> NpzFile.read(entries("big-endian", npy(">f4", "False")), "data"))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("array x holds >f4");
    assertThatThrownBy(() -> NpzFile.read(entries("fortran", npy("<f4", "True ")), "data"))
        .hasMessageContaining("Fortran order");
    byte[] whole = npy("<f4", "False");
    assertThatThrownBy(
            () -> NpzFile.read(entries("short", Arrays.copyOf(whole, whole.length - 4)), "data"))
        .hasMessageContaining("truncated");
    byte[] giant =
        ImageModels.npy(new float[0], new long[] {2305843009213693952L}, "<i8").toByteArray();
    assertThatThrownBy(() -> NpzFile.read(entries("giant", giant), "data"))
        .hasMessageContaining("which no file can hold");
    Path file = dir.resolve("not.npz");
    Files.writeString(file, "plain text");
    assertThatThrownBy(() -> NpzFile.read(file, "calibration"))
        .hasMessageContaining("is not an .npz file");
    Path disagree =
        ImageModels.npz(
            dir.resolve("disagree.npz"),
            Map.of("a", new float[6], "b", new float[4]),
            Map.of("a", new long[] {3, 2}, "b", new long[] {2, 2}));
    assertThatThrownBy(() -> NpzFile.read(disagree, "data"))
        .hasMessageContaining("disagree on the number of samples");
  }

  private static byte[] npy(String descr, String fortran) throws Exception {
    ByteArrayOutputStream npy = ImageModels.npy(new float[] {1, 2, 3, 4}, new long[] {2, 2}, descr);
    return new String(npy.toByteArray(), java.nio.charset.StandardCharsets.ISO_8859_1)
        .replace("'fortran_order': False", "'fortran_order': " + fortran)
        .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  private Path entries(String name, byte[] npy) throws Exception {
    Path file = dir.resolve(name + ".npz");
    try (OutputStream out = Files.newOutputStream(file);
        ZipOutputStream zip = new ZipOutputStream(out)) {
      zip.putNextEntry(new ZipEntry("x.npy"));
      zip.write(npy);
      zip.closeEntry();
    }
    return file;
  }
}

import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Renders lines of real text as the crops a text-direction classifier reads (PaddleOCR's
 * ch_ppocr_mobile_v2.0_cls: 3 x 48 x 192, pixels scaled to [-1, 1], resized to height 48 keeping
 * the aspect ratio up to width 192, padded with 0), each line upright (label 0) and turned by 180
 * degrees (label 1), into an .npz file (array "x", float32 [2 N, 3, 48, 192]) and a labels file.
 * A line becomes a snippet of 2 to 7 words, chosen by a hash of the line so reruns agree. With
 * {@code upright}, crops as PaddleOCR's PP-OCRv4 text recognizer reads them once the classifier has
 * turned them: each line once, upright, a snippet of 1 to 3 words, at most 320 wide (array [N, 3,
 * 48, 320], every label 0).
 *
 * <p>Usage: java RenderTextLines.java FONT.ttf LINES.txt OUT.npz LABELS.txt [LIMIT] [upright]
 */
public class RenderTextLines {
  static final int H = 48;
  static int W = 192;
  static boolean recognition;

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    Font font = Font.createFont(Font.TRUETYPE_FONT, Path.of(args[0]).toFile()).deriveFont(30f);
    List<String> lines = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8);
    int limit = args.length > 4 ? Integer.parseInt(args[4]) : lines.size();
    recognition = args.length > 5 && args[5].equals("upright");
    int turns = recognition ? 1 : 2;
    W = recognition ? 320 : 192;
    List<String> snippets = new ArrayList<>();
    for (String line : lines) {
      String snippet = snippet(line.strip());
      if (!snippet.isEmpty() && snippets.size() < limit) {
        snippets.add(snippet);
      }
    }
    float[] x = new float[snippets.size() * turns * 3 * H * W];
    try (PrintWriter labels = new PrintWriter(Files.newBufferedWriter(Path.of(args[3])))) {
      int sample = 0;
      for (String snippet : snippets) {
        BufferedImage upright = render(snippet, font);
        for (int turned = 0; turned < turns; turned++) {
          write(turned == 0 ? upright : rotate180(upright), x, sample++);
          labels.println(turned);
        }
      }
    }
    long crops = (long) snippets.size() * turns;
    writeNpz(Path.of(args[2]), "x", x, new long[] {crops, 3, H, W});
    System.out.println(crops + " crops of " + snippets.size() + " lines -> " + args[2]);
  }

  /** 2 to 7 words of the line (a recognizer's: 1 to 3), by a hash of it. */
  static String snippet(String line) {
    String[] words = line.split("\\s+");
    int want = recognition ? 1 + Math.floorMod(line.hashCode(), 3) : 2 + Math.floorMod(line.hashCode(), 6);
    int start = words.length > want ? Math.floorMod(line.hashCode() / 7, words.length - want) : 0;
    StringBuilder out = new StringBuilder();
    for (int i = start; i < Math.min(words.length, start + want); i++) {
      out.append(out.length() == 0 ? "" : " ").append(words[i]);
    }
    return out.toString();
  }

  static BufferedImage render(String text, Font font) {
    BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    FontMetrics metrics = probe.createGraphics().getFontMetrics(font);
    int width = Math.max(8, metrics.stringWidth(text) + 8);
    BufferedImage image = new BufferedImage(width, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(java.awt.Color.WHITE);
    g.fillRect(0, 0, width, H);
    g.setColor(java.awt.Color.BLACK);
    g.setFont(font);
    int baseline = (H - metrics.getHeight()) / 2 + metrics.getAscent();
    g.drawString(text, 4, baseline);
    g.dispose();
    return image;
  }

  static BufferedImage rotate180(BufferedImage in) {
    BufferedImage out = new BufferedImage(in.getWidth(), in.getHeight(), in.getType());
    for (int y = 0; y < in.getHeight(); y++) {
      for (int x = 0; x < in.getWidth(); x++) {
        out.setRGB(in.getWidth() - 1 - x, in.getHeight() - 1 - y, in.getRGB(x, y));
      }
    }
    return out;
  }

  /**
   * PaddleOCR's preprocessing: resize to height 48, at most width W (cls 192, rec 320), scale, pad
   * with 0.
   */
  static void write(BufferedImage image, float[] x, int sample) {
    int width = Math.min(W, (int) Math.ceil(H * (double) image.getWidth() / image.getHeight()));
    BufferedImage resized = new BufferedImage(width, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = resized.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(image, 0, 0, width, H, null);
    g.dispose();
    int base = sample * 3 * H * W;
    for (int y = 0; y < H; y++) {
      for (int col = 0; col < width; col++) {
        int rgb = resized.getRGB(col, y);
        int[] bgr = {rgb & 0xff, (rgb >> 8) & 0xff, (rgb >> 16) & 0xff};
        for (int c = 0; c < 3; c++) {
          x[base + (c * H + y) * W + col] = (bgr[c] / 255f - 0.5f) / 0.5f;
        }
      }
    }
  }

  static void writeNpz(Path file, String name, float[] values, long[] shape) throws IOException {
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(d).append(", ");
    }
    String dict =
        "{'descr': '<f4', 'fortran_order': False, 'shape': ("
            + dims.substring(0, dims.length() - (shape.length > 1 ? 2 : 1))
            + "), }";
    int unpadded = 10 + dict.length() + 1;
    String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
    ByteArrayOutputStream npy = new ByteArrayOutputStream();
    npy.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    npy.write(header.length() & 0xff);
    npy.write(header.length() >> 8);
    npy.write(header.getBytes(StandardCharsets.ISO_8859_1));
    ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    data.asFloatBuffer().put(values);
    npy.write(data.array());
    try (OutputStream out = Files.newOutputStream(file);
        ZipOutputStream zip = new ZipOutputStream(out)) {
      zip.putNextEntry(new ZipEntry(name + ".npy"));
      npy.writeTo(zip);
      zip.closeEntry();
    }
  }
}

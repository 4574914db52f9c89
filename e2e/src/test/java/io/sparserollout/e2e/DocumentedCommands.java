package io.sparserollout.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The command blocks of README.md and docs/*.md, and the checks every one of them passes whether or
 * not it runs here. Each ```bash block carries, on the line above it, how it is checked:
 *
 * <ul>
 *   <li>{@code <!-- check: run -->} runs as written;
 *   <li>{@code <!-- check: run QUICK -->} runs QUICK instead, the same program in a quick mode;
 *   <li>{@code <!-- check: refuses REGEX -->} runs and must fail with output matching REGEX (a
 *       command that needs a GPU, say);
 *   <li>{@code <!-- check: skip REASON -->} does not run here (needs a cluster, a registry, your
 *       own data, or is the build itself), and REASON says why.
 * </ul>
 */
final class DocumentedCommands {
  private static final Pattern FENCE = Pattern.compile("^```(bash|sh)\\s*$");
  private static final Pattern ANNOTATION =
      Pattern.compile("^<!-- check: (run|refuses|skip)(?: (.*?))? -->$");
  private static final Pattern MAVEN_PL = Pattern.compile("(?:^|\\s)(?:-pl|--projects)[ =](\\S+)");
  private static final Pattern REPO_PATH =
      Pattern.compile("(?<![\\w/.$-])((?:scripts|manifests)/[\\w./-]*[\\w/])");
  private static final Pattern BUILT_JAR =
      Pattern.compile("(?<![\\w/.$-])([\\w-]+/target/[\\w./-]+\\.jar)");

  /** How a block is checked. */
  enum Mode {
    RUN,
    REFUSES,
    SKIP
  }

  /**
   * One command block.
   *
   * @param line the 1-based line of its opening fence
   * @param argument the quick form (run), the expected refusal (refuses) or the reason (skip)
   */
  record Block(Path file, int line, String text, Mode mode, String argument) {
    String where() {
      return file + ":" + line;
    }

    /** What runs: the quick form when one is given. */
    String command() {
      return mode == Mode.RUN && argument != null ? argument : text;
    }
  }

  private DocumentedCommands() {}

  static List<Path> documents(Path root) {
    List<Path> files = new ArrayList<>(List.of(root.resolve("README.md")));
    try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  /** The blocks of one document; a block without an annotation is reported in {@code problems}. */
  static List<Block> blocks(Path root, Path file, List<String> problems) {
    List<String> lines = read(file);
    List<Block> blocks = new ArrayList<>();
    Path shown = root.relativize(file);
    for (int i = 0; i < lines.size(); i++) {
      if (!FENCE.matcher(lines.get(i)).matches()) {
        continue;
      }
      int start = i;
      StringBuilder text = new StringBuilder();
      for (i++; i < lines.size() && !lines.get(i).startsWith("```"); i++) {
        text.append(lines.get(i)).append('\n');
      }
      Matcher a = start > 0 ? ANNOTATION.matcher(lines.get(start - 1).strip()) : null;
      if (a == null || !a.matches()) {
        problems.add(
            shown
                + ":"
                + (start + 1)
                + ": a command block without <!-- check: run|refuses|skip ... --> above it");
        continue;
      }
      Mode mode = Mode.valueOf(a.group(1).toUpperCase(java.util.Locale.ROOT));
      blocks.add(new Block(shown, start + 1, text.toString(), mode, a.group(2)));
    }
    return blocks;
  }

  /** The problems a command has whether or not it runs; empty when none. */
  static List<String> lint(
      Path root, String where, String command, Map<String, List<String>> siblings) {
    List<String> problems = new ArrayList<>();
    for (String line : logicalLines(command)) {
      if (line.contains("mvnw") && !line.matches(".*(?:^|\\s)(?:-am|--also-make)(?:\\s|$).*")) {
        Matcher pl = MAVEN_PL.matcher(line);
        if (pl.find()) {
          for (String module : pl.group(1).split(",")) {
            List<String> needs = siblings.getOrDefault(module, List.of());
            if (!needs.isEmpty()) {
              problems.add(
                  where
                      + ": `"
                      + line.strip()
                      + "` builds "
                      + module
                      + " without -am, but it needs "
                      + String.join(", ", needs)
                      + ", which a fresh clone's verify does not install");
            }
          }
        }
      }
      Matcher path = REPO_PATH.matcher(line);
      while (path.find()) {
        if (!Files.exists(root.resolve(path.group(1)))) {
          problems.add(where + ": `" + path.group(1) + "` does not exist");
        }
      }
      Matcher jar = BUILT_JAR.matcher(line);
      while (jar.find()) {
        if (!Files.exists(root.resolve(jar.group(1)))) {
          problems.add(where + ": `" + jar.group(1) + "` is not built by ./mvnw -B verify");
        }
      }
    }
    return problems;
  }

  /** Each module's sibling modules, from the poms' dependencies on io.sparserollout artifacts. */
  static Map<String, List<String>> siblings(Path root) {
    Map<String, List<String>> needs = new LinkedHashMap<>();
    Pattern module = Pattern.compile("<module>([\\w-]+)</module>");
    Pattern dependency = Pattern.compile("<artifactId>sparserollout-([\\w-]+)</artifactId>");
    Matcher modules = module.matcher(String.join("\n", read(root.resolve("pom.xml"))));
    while (modules.find()) {
      String name = modules.group(1);
      List<String> deps = new ArrayList<>();
      Matcher d =
          dependency.matcher(String.join("\n", read(root.resolve(name).resolve("pom.xml"))));
      while (d.find()) {
        String dep = d.group(1);
        if (!dep.equals("parent") && !dep.equals(name) && !deps.contains(dep)) {
          deps.add(dep);
        }
      }
      needs.put(name, deps);
    }
    return needs;
  }

  /** Lines with their backslash continuations joined and comments dropped. */
  static List<String> logicalLines(String text) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String raw : text.split("\n")) {
      String line = raw.replaceAll("(^|\\s)#.*$", "");
      if (line.endsWith("\\")) {
        current.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      current.append(line);
      if (!current.toString().isBlank()) {
        out.add(current.toString());
      }
      current.setLength(0);
    }
    return out;
  }

  static List<String> read(Path file) {
    try {
      return Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

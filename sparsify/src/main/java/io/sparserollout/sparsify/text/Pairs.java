package io.sparserollout.sparsify.text;

import io.sparserollout.sparsify.SparsifyException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A ranker's samples: one {@code query<TAB>document} per line. The lines that share a query's text
 * are that query's group, wherever they stand in the file.
 */
public final class Pairs {
  private Pairs() {}

  /** Query and document of a line already checked by {@link #check}. */
  static String[] split(String line) {
    int tab = line.indexOf('\t');
    if (tab < 0) {
      throw new SparsifyException("not a query<TAB>document pair: " + brief(line));
    }
    return new String[] {line.substring(0, tab).strip(), line.substring(tab + 1).strip()};
  }

  /** Refuses, naming the line, a sample that is not exactly one non-empty query and document. */
  public static void check(List<String> lines, String role) {
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int tab = line.indexOf('\t');
      if (tab < 0 || line.indexOf('\t', tab + 1) >= 0) {
        throw new SparsifyException(
            role
                + " sample "
                + (i + 1)
                + " is not one query<TAB>document pair (a ranker's samples are pairs, one per"
                + " line, query and document separated by one tab): "
                + brief(line));
      }
      String[] pair = split(line);
      if (pair[0].isEmpty() || pair[1].isEmpty()) {
        throw new SparsifyException(
            role + " sample " + (i + 1) + " has an empty query or document: " + brief(line));
      }
    }
  }

  /** For each line, the index of its query's group; groups numbered in order of first line. */
  public static int[] groups(List<String> lines) {
    Map<String, Integer> ids = new LinkedHashMap<>();
    int[] group = new int[lines.size()];
    for (int i = 0; i < group.length; i++) {
      group[i] = ids.computeIfAbsent(split(lines.get(i))[0], q -> ids.size());
    }
    return group;
  }

  /** The line indices of each group, groups in order of first line. */
  public static List<List<Integer>> members(int[] groups) {
    List<List<Integer>> members = new ArrayList<>();
    for (int i = 0; i < groups.length; i++) {
      while (members.size() <= groups[i]) {
        members.add(new ArrayList<>());
      }
      members.get(groups[i]).add(i);
    }
    return members;
  }

  private static String brief(String line) {
    String shown = line.replace("\t", "<TAB>");
    return shown.length() > 80 ? shown.substring(0, 80) + "..." : shown;
  }
}

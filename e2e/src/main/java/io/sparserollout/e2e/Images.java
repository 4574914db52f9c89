package io.sparserollout.e2e;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The project's images as the process kubelet runs them: each image's files are the module's build
 * output on this machine, and its entrypoint is the one scripts/images.sh gives the image.
 *
 * @param repository the image name without tag, e.g. sparserollout/sparsify
 * @param imageRoot the directory inside the image holding the application
 * @param localRoot where that directory's content is on this machine
 * @param entrypoint the image's command, used when the container names none
 */
record Images(String repository, String imageRoot, Path localRoot, List<String> entrypoint) {

  static List<Images> of(Path projectRoot) {
    return List.of(
        new Images(
            "sparserollout/sparsify",
            "/opt/sparsify/",
            projectRoot.resolve("sparsify/target"),
            List.of("java", "-jar", "/opt/sparsify/sparsify.jar")),
        new Images(
            "sparserollout/inference-pod",
            "/opt/inference-pod/",
            projectRoot.resolve("inference-pod/target/quarkus-app"),
            List.of("java", "-jar", "/opt/inference-pod/quarkus-run.jar")),
        new Images(
            "sparserollout/operator",
            "/deployments/",
            projectRoot.resolve("operator/target/quarkus-app"),
            List.of("java", "-jar", "/deployments/quarkus-run.jar")));
  }

  /** The image an image reference names, or null when it is not one of the project's. */
  static Images find(List<Images> images, String reference) {
    String repository = reference.replaceAll("@.*$", "").replaceAll(":[^/:]*$", "");
    repository = repository.replaceAll("^(docker\\.io/|localhost(:\\d+)?/)", "");
    for (Images image : images) {
      if (image.repository().equals(repository)) {
        return image;
      }
    }
    return null;
  }

  /** What a path inside the image is on this machine. */
  Map<String, Path> mounts() {
    return Map.of(imageRoot.replaceAll("/$", ""), localRoot);
  }
}

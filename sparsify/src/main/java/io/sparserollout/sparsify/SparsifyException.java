package io.sparserollout.sparsify;

/** A problem with the user's input, reported as one clear line and a non-zero exit. */
public class SparsifyException extends RuntimeException {
  public SparsifyException(String message) {
    super(message);
  }

  public SparsifyException(String message, Throwable cause) {
    super(message, cause);
  }
}

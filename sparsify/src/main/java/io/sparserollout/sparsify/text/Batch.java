package io.sparserollout.sparsify.text;

/** The inputs of one model run: a tokenizer's token ids, or tensors given as they are. */
public sealed interface Batch permits TokenBatch, TensorBatch {
  /** Samples in the batch: the first dimension of every input. */
  int size();
}

package io.sparserollout.sparsify.onnx;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.TokenBatch;
import java.util.List;
import java.util.OptionalLong;

/** Checks that a tokenizer's ids fit the model's token embedding table. */
public final class Vocabulary {
  private Vocabulary() {}

  /** Rows of the embedding table that input_ids index (a Gather on input_ids), if any. */
  public static OptionalLong size(OnnxModel model) {
    for (NodeProto node : model.proto().getGraph().getNodeList()) {
      if (node.getOpType().equals("Gather")
          && node.getInputCount() == 2
          && node.getInput(1).equals("input_ids")) {
        var table = model.initializer(node.getInput(0));
        if (table.isPresent() && table.get().getDimsCount() == 2) {
          return OptionalLong.of(table.get().getDims(0));
        }
      }
    }
    return OptionalLong.empty();
  }

  public static void check(OnnxModel model, List<? extends Batch> batches) {
    OptionalLong size = size(model);
    if (size.isEmpty()) {
      return;
    }
    for (Batch sample : batches) {
      if (!(sample instanceof TokenBatch batch)) {
        continue; // tensors carry no token ids
      }
      for (long id : batch.ids()) {
        if (id >= size.getAsLong() || id < 0) {
          throw new SparsifyException(
              "the tokenizer does not match the model: it produced token id "
                  + id
                  + ", outside the model's vocabulary of "
                  + size.getAsLong()
                  + " tokens");
        }
      }
    }
  }
}

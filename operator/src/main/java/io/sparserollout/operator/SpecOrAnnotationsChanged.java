package io.sparserollout.operator;

import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import io.sparserollout.api.v1alpha1.SparseModel;
import java.util.Objects;

/**
 * Reconcile on a new spec generation or changed annotations (sparserollout.io/promote and abort act
 * at once), not on the operator's own status writes.
 */
public class SpecOrAnnotationsChanged implements OnUpdateFilter<SparseModel> {
  @Override
  public boolean accept(SparseModel updated, SparseModel old) {
    return !Objects.equals(updated.getMetadata().getGeneration(), old.getMetadata().getGeneration())
        || !Objects.equals(
            updated.getMetadata().getAnnotations(), old.getMetadata().getAnnotations())
        || updated.getMetadata().getDeletionTimestamp() != null;
  }
}

package io.sparserollout.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A dense model to be pruned to 2:4 sparsity, evaluated against its dense baseline, and rolled out
 * by canary. The operator reads {@code spec} and writes only {@code status}.
 */
@JsonClassDescription(
    "A dense model pruned to 2:4 structured sparsity, gated on accuracy against its dense"
        + " baseline, and rolled out to inference pods by canary.")
@Group(SparseModel.GROUP)
@Version(SparseModel.VERSION)
@ShortNames("sm")
@AdditionalPrinterColumn(
    name = "Phase",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Sparsity",
    jsonPath = ".status.pruning.achievedSparsity",
    type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(
    name = "Metric Δ",
    jsonPath = ".status.gate.drop",
    type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(
    name = "Variant",
    jsonPath = ".status.engine.variant",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Speed-up",
    jsonPath = ".status.engine.speedup",
    type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(
    name = "Canary",
    jsonPath = ".status.rollout.canaryWeight",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class SparseModel extends CustomResource<SparseModelSpec, SparseModelStatus>
    implements Namespaced {
  public static final String GROUP = "sparserollout.io";
  public static final String VERSION = "v1alpha1";
}

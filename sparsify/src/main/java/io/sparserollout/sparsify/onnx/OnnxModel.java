package io.sparserollout.sparsify.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.sparserollout.sparsify.SparsifyException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An ONNX model whose float initializers can be read and replaced. Weights stored as external data
 * (models over 2 GB) are read from their files and written back as external data.
 *
 * <p>Over 300 lines on purpose: reading, editing and writing a model (inline and external data)
 * share the bookkeeping of replaced weights, kept in one class.
 */
public final class OnnxModel {
  private static final String EXTERNAL_SUFFIX = io.sparserollout.stage.Sha256.EXTERNAL_DATA_SUFFIX;
  private final ModelProto.Builder proto;
  private final Path directory;
  private final Map<String, Integer> initializerIndex = new HashMap<>();

  /** Weights replaced since loading: written on save, inline or external like the original. */
  private final Map<String, float[]> replaced = new LinkedHashMap<>();

  private OnnxModel(ModelProto.Builder proto, Path directory) {
    this.proto = proto;
    this.directory = directory;
    for (int i = 0; i < proto.getGraph().getInitializerCount(); i++) {
      initializerIndex.put(proto.getGraph().getInitializer(i).getName(), i);
    }
  }

  public static OnnxModel load(Path file) {
    ModelProto model;
    try (InputStream in = Files.newInputStream(file)) {
      CodedInputStream coded = CodedInputStream.newInstance(in);
      coded.setSizeLimit(Integer.MAX_VALUE);
      model = ModelProto.parseFrom(coded);
    } catch (NoSuchFileException e) {
      throw new SparsifyException("model file not found: " + file);
    } catch (InvalidProtocolBufferException e) {
      throw new SparsifyException(
          file + " is not an ONNX model (truncated or not protobuf): " + e.getMessage());
    } catch (IOException e) {
      throw new SparsifyException("cannot read " + file + ": " + e.getMessage(), e);
    }
    if (model.getIrVersion() <= 0 || !model.hasGraph() || model.getGraph().getNodeCount() == 0) {
      throw new SparsifyException(
          file + " is not an ONNX model: it has no IR version or no graph nodes");
    }
    Path dir = file.toAbsolutePath().getParent();
    ModelProto.Builder builder = model.toBuilder();
    ConstantWeights.hoist(builder.getGraphBuilder());
    return new OnnxModel(builder, dir);
  }

  public ModelProto.Builder proto() {
    return proto;
  }

  public Optional<TensorProto> initializer(String name) {
    Integer index = initializerIndex.get(name);
    return index == null ? Optional.empty() : Optional.of(proto.getGraph().getInitializer(index));
  }

  /** The float values of an initializer, whichever way it is stored. */
  public float[] floats(String name) {
    float[] changed = replaced.get(name);
    if (changed != null) {
      return changed.clone();
    }
    TensorProto tensor =
        initializer(name).orElseThrow(() -> new IllegalArgumentException("no initializer " + name));
    if (tensor.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
      throw new SparsifyException(
          "initializer " + name + " is not float32 (ONNX data type " + tensor.getDataType() + ")");
    }
    int count = Math.toIntExact(elementCount(tensor));
    if (tensor.getFloatDataCount() > 0) {
      float[] values = new float[count];
      for (int i = 0; i < count; i++) {
        values[i] = tensor.getFloatData(i);
      }
      return values;
    }
    ByteBuffer bytes =
        isExternal(tensor)
            ? readExternal(tensor, count * 4L)
            : tensor.getRawData().asReadOnlyByteBuffer();
    float[] values = new float[count];
    bytes.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    return values;
  }

  public void setFloats(String name, float[] values) {
    TensorProto tensor =
        initializer(name).orElseThrow(() -> new IllegalArgumentException("no initializer " + name));
    if (values.length != elementCount(tensor)) {
      throw new IllegalArgumentException(
          name + ": " + values.length + " values for " + elementCount(tensor) + " elements");
    }
    replaced.put(name, values.clone());
  }

  /** The initializer on its own: replaced values applied, external data read in. */
  public TensorProto inlineInitializer(String name) {
    TensorProto tensor =
        initializer(name).orElseThrow(() -> new IllegalArgumentException("no initializer " + name));
    float[] values = replaced.get(name);
    if (values == null && !isExternal(tensor)) {
      return tensor;
    }
    byte[] bytes =
        values != null ? littleEndian(values) : toArray(readExternal(tensor, storedBytes(tensor)));
    return tensor.toBuilder()
        .clearFloatData()
        .clearExternalData()
        .clearDataLocation()
        .setRawData(ByteString.copyFrom(bytes))
        .build();
  }

  public void putMetadata(String key, String value) {
    for (int i = 0; i < proto.getMetadataPropsCount(); i++) {
      if (proto.getMetadataProps(i).getKey().equals(key)) {
        proto.setMetadataProps(i, StringStringEntryProto.newBuilder().setKey(key).setValue(value));
        return;
      }
    }
    proto.addMetadataProps(StringStringEntryProto.newBuilder().setKey(key).setValue(value));
  }

  public Optional<String> metadata(String key) {
    return proto.getMetadataPropsList().stream()
        .filter(e -> e.getKey().equals(key))
        .map(StringStringEntryProto::getValue)
        .findFirst();
  }

  /**
   * The model with every replaced weight applied, as ONNX Runtime loads it from memory, with extra
   * graph outputs so that intermediate float tensors can be captured.
   */
  public byte[] toBytes(List<String> extraOutputs) {
    if (hasExternalData()) {
      throw new SparsifyException(
          "calibration of models with external data (over 2 GB) is not supported yet");
    }
    ModelProto.Builder model = applyReplacements(null).toBuilder();
    var graph = model.getGraphBuilder();
    for (String name : extraOutputs) {
      if (graph.getOutputList().stream().noneMatch(o -> o.getName().equals(name))) {
        graph.addOutput(
            ValueInfoProto.newBuilder()
                .setName(name)
                .setType(
                    TypeProto.newBuilder()
                        .setTensorType(
                            TypeProto.Tensor.newBuilder()
                                .setElemType(TensorProto.DataType.FLOAT_VALUE))));
      }
    }
    return model.build().toByteArray();
  }

  /** Writes the model; external-data weights go to a new file beside it, named OUT.data. */
  public void save(Path file) {
    try {
      Path absolute = file.toAbsolutePath();
      Files.createDirectories(absolute.getParent());
      Path dataFile = absolute.resolveSibling(absolute.getFileName() + EXTERNAL_SUFFIX);
      ModelProto model;
      if (hasExternalData()) {
        try (OutputStream data = Files.newOutputStream(dataFile)) {
          model = applyReplacements(new ExternalWriter(data, dataFile.getFileName().toString()));
        }
      } else {
        model = applyReplacements(null);
      }
      Path tmp = absolute.resolveSibling(absolute.getFileName() + ".tmp");
      try (OutputStream out = Files.newOutputStream(tmp)) {
        model.writeTo(out);
      }
      Files.move(tmp, absolute, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new SparsifyException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  private boolean hasExternalData() {
    return proto.getGraph().getInitializerList().stream().anyMatch(OnnxModel::isExternal);
  }

  private ModelProto applyReplacements(ExternalWriter external) {
    ModelProto.Builder out = proto.clone();
    var graph = out.getGraphBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto tensor = graph.getInitializer(i);
      float[] values = replaced.get(tensor.getName());
      if (external != null && isExternal(tensor)) {
        byte[] bytes = values != null ? littleEndian(values) : toArray(readExternal(tensor, -1));
        graph.setInitializer(i, external.write(tensor, bytes));
      } else if (values != null) {
        graph.setInitializer(i, inlineInitializer(tensor.getName()));
      }
    }
    return out.build();
  }

  private ByteBuffer readExternal(TensorProto tensor, long expectedBytes) {
    String location = null;
    long offset = 0;
    long length = -1;
    for (StringStringEntryProto entry : tensor.getExternalDataList()) {
      switch (entry.getKey()) {
        case "location" -> location = entry.getValue();
        case "offset" -> offset = Long.parseLong(entry.getValue());
        case "length" -> length = Long.parseLong(entry.getValue());
        default -> {}
      }
    }
    if (location == null) {
      throw new SparsifyException("initializer " + tensor.getName() + " names no external file");
    }
    if (length < 0) {
      length = expectedBytes >= 0 ? expectedBytes : elementCount(tensor) * 4;
    }
    Path path = insideModelDirectory(tensor.getName(), location);
    try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "r")) {
      if (offset + length > file.length()) {
        throw new SparsifyException(
            "external data file " + path + " is truncated for " + tensor.getName());
      }
      return file.getChannel().map(java.nio.channels.FileChannel.MapMode.READ_ONLY, offset, length);
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      throw new SparsifyException("external data file missing: " + path);
    } catch (IOException e) {
      throw new SparsifyException("cannot read external data " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * The external file, resolved through symlinks: a model (or a link beside it) must not make a
   * stage read a file outside the model's folder, such as a mounted Secret.
   */
  private Path insideModelDirectory(String tensor, String location) {
    Path path = directory.resolve(location).normalize();
    String outside =
        "external data of " + tensor + " points outside the model's directory: " + location;
    if (!path.startsWith(directory)) {
      throw new SparsifyException(outside);
    }
    if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new SparsifyException("external data file missing: " + path);
    }
    try {
      Path real = path.toRealPath();
      if (!real.startsWith(directory.toRealPath())) {
        throw new SparsifyException(outside);
      }
      return real;
    } catch (IOException e) {
      throw new SparsifyException(
          "cannot resolve external data " + path + ": " + e.getMessage(), e);
    }
  }

  static boolean isExternal(TensorProto tensor) {
    return tensor.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
  }

  public static long elementCount(TensorProto tensor) {
    long count = 1;
    for (long dim : tensor.getDimsList()) {
      count *= dim;
    }
    return count;
  }

  /** Bytes of a tensor's data as ONNX stores it (4-bit types packed two to a byte). */
  private static long storedBytes(TensorProto tensor) {
    long count = elementCount(tensor);
    return switch (tensor.getDataType()) {
      case 11, 7, 13, 14 -> count * 8; // DOUBLE, INT64, UINT64, COMPLEX64
      case 15 -> count * 16; // COMPLEX128
      case 10, 16, 5, 4 -> count * 2; // FLOAT16, BFLOAT16, INT16, UINT16
      case 3, 2, 9, 17, 18, 19, 20 -> count; // INT8, UINT8, BOOL, the FLOAT8 types
      case 21, 22, 23 -> (count + 1) / 2; // UINT4, INT4, FLOAT4E2M1
      case 1, 6, 12 -> count * 4; // FLOAT, INT32, UINT32
      default ->
          throw new SparsifyException(
              "initializer "
                  + tensor.getName()
                  + " has ONNX data type "
                  + tensor.getDataType()
                  + ", which this build cannot size");
    };
  }

  private static byte[] littleEndian(float[] values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buffer.asFloatBuffer().put(values);
    return buffer.array();
  }

  private static byte[] toArray(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }

  /** Appends tensors to one external data file, 64-byte aligned as onnx's own writer does. */
  private static final class ExternalWriter {
    private final OutputStream out;
    private final String location;
    private long position;

    ExternalWriter(OutputStream out, String location) {
      this.out = out;
      this.location = location;
    }

    TensorProto write(TensorProto tensor, byte[] bytes) {
      try {
        long aligned = (position + 63) / 64 * 64;
        out.write(new byte[(int) (aligned - position)]);
        out.write(bytes);
        long offset = aligned;
        position = aligned + bytes.length;
        return tensor.toBuilder()
            .clearExternalData()
            .clearRawData()
            .clearFloatData()
            .setDataLocation(TensorProto.DataLocation.EXTERNAL)
            .addExternalData(entry("location", location))
            .addExternalData(entry("offset", Long.toString(offset)))
            .addExternalData(entry("length", Integer.toString(bytes.length)))
            .build();
      } catch (IOException e) {
        throw new SparsifyException("cannot write external data: " + e.getMessage(), e);
      }
    }

    private static StringStringEntryProto entry(String key, String value) {
      return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }
  }
}

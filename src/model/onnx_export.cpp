#include "model/onnx_export.h"

#include <onnx.pb.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "eval/metrics.h"
#include "features/schema.h"

namespace loadcast {
namespace {

// ONNX 1.12 (Debian 12): IR version 8, default opset 17, ai.onnx.ml 3.
constexpr int64_t kIrVersion = 8;
constexpr int64_t kDefaultOpset = 17;
constexpr int64_t kMlOpset = 3;
constexpr const char* kMlDomain = "ai.onnx.ml";

onnx::AttributeProto& attribute(onnx::NodeProto& node, const std::string& name,
                                onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto& a = *node.add_attribute();
  a.set_name(name);
  a.set_type(type);
  return a;
}

void set_tensor_type(onnx::ValueInfoProto& value, const std::string& name, int element_type,
                     int64_t columns, bool matrix) {
  value.set_name(name);
  onnx::TypeProto::Tensor& tensor = *value.mutable_type()->mutable_tensor_type();
  tensor.set_elem_type(element_type);
  onnx::TensorShapeProto& shape = *tensor.mutable_shape();
  shape.add_dim()->set_dim_param("rows");
  if (matrix) shape.add_dim()->set_dim_value(columns);
}

void add_metadata(onnx::ModelProto& proto, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto& entry = *proto.add_metadata_props();
  entry.set_key(key);
  entry.set_value(value);
}

}  // namespace

std::string onnx_model(const Model& model, const std::string& version) {
  const forest::Forest& forest = model.forest();
  const int K = forest.num_classes();
  if (K != kNumLabels)
    fail_internal("the forest has " + std::to_string(K) + " classes, not " +
                  std::to_string(kNumLabels));

  onnx::ModelProto proto;
  proto.set_ir_version(kIrVersion);
  proto.set_producer_name("loadcast");
  proto.set_producer_version(LOADCAST_VERSION);
  proto.set_domain("ai.loadcast");
  const bool boosted = forest.algorithm() == forest::Algorithm::kGradientBoostedTrees;
  proto.set_doc_string(std::string("loadcast's ") +
                       (boosted ? "gradient-boosted trees" : "random forest") +
                       ": three load classes of a server's hour from its encoded feature vector");
  for (const auto& [domain, opset] :
       {std::pair<std::string, int64_t>{"", kDefaultOpset}, {kMlDomain, kMlOpset}}) {
    onnx::OperatorSetIdProto& id = *proto.add_opset_import();
    id.set_domain(domain);
    id.set_version(opset);
  }
  add_metadata(proto, "feature_names", nlohmann::json(model.encoder().feature_names()).dump());
  add_metadata(proto, "class_labels", "[1,2,3]");
  add_metadata(proto, "class_names", nlohmann::json(kLabelNames).dump());
  add_metadata(proto, "version", version);

  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name("loadcast_forest");
  const int64_t features = forest.num_features();
  set_tensor_type(*graph.add_input(), "features", onnx::TensorProto::FLOAT, features, true);
  // The predicted class is named as the feature table names the label.
  const std::string& label = model.schema().of(ColumnRole::kLabel).name;
  set_tensor_type(*graph.add_output(), label, onnx::TensorProto::INT64, 0, false);
  set_tensor_type(*graph.add_output(), "probabilities", onnx::TensorProto::FLOAT, K, true);

  onnx::NodeProto& node = *graph.add_node();
  node.set_name("trees");
  node.set_op_type("TreeEnsembleClassifier");
  node.set_domain(kMlDomain);
  node.add_input("features");
  node.add_output(label);
  node.add_output("probabilities");

  using A = onnx::AttributeProto;
  A& tree_ids = attribute(node, "nodes_treeids", A::INTS);
  A& node_ids = attribute(node, "nodes_nodeids", A::INTS);
  A& feature_ids = attribute(node, "nodes_featureids", A::INTS);
  A& values = attribute(node, "nodes_values", A::FLOATS);
  A& modes = attribute(node, "nodes_modes", A::STRINGS);
  A& true_ids = attribute(node, "nodes_truenodeids", A::INTS);
  A& false_ids = attribute(node, "nodes_falsenodeids", A::INTS);
  A& class_tree_ids = attribute(node, "class_treeids", A::INTS);
  A& class_node_ids = attribute(node, "class_nodeids", A::INTS);
  A& class_ids = attribute(node, "class_ids", A::INTS);
  A& class_weights = attribute(node, "class_weights", A::FLOATS);
  // Every leaf lists all classes, zeros included: ONNX Runtime picks the
  // label among the classes some reached leaf lists, so a class left out
  // could make the label disagree with the probabilities. A forest's
  // weights are each tree's share of the mean; boosted trees' weights are
  // their leaf values, summed onto the base score and then a softmax.
  const double share = boosted ? 1.0 : 1.0 / static_cast<double>(forest.trees().size());
  for (size_t t = 0; t < forest.trees().size(); ++t) {
    const forest::Tree& tree = forest.trees()[t];
    for (size_t n = 0; n < tree.nodes.size(); ++n) {
      const forest::Tree::Node& x = tree.nodes[n];
      const bool leaf = x.feature < 0;
      tree_ids.add_ints(static_cast<int64_t>(t));
      node_ids.add_ints(static_cast<int64_t>(n));
      feature_ids.add_ints(leaf ? 0 : x.feature);
      values.add_floats(leaf ? 0.0F : x.threshold);
      modes.add_strings(leaf ? "LEAF" : "BRANCH_LEQ");
      true_ids.add_ints(leaf ? 0 : x.left);
      false_ids.add_ints(leaf ? 0 : x.right);
      if (!leaf) continue;
      for (int k = 0; k < K; ++k) {
        class_tree_ids.add_ints(static_cast<int64_t>(t));
        class_node_ids.add_ints(static_cast<int64_t>(n));
        class_ids.add_ints(k);
        class_weights.add_floats(
            static_cast<float>(tree.leaf_values[n * static_cast<size_t>(K) + k] * share));
      }
    }
  }
  A& labels = attribute(node, "classlabels_int64s", A::INTS);
  for (int k = 0; k < K; ++k) labels.add_ints(k + 1);
  attribute(node, "post_transform", A::STRING).set_s(boosted ? "SOFTMAX" : "NONE");
  if (boosted) {
    A& base = attribute(node, "base_values", A::FLOATS);
    for (double v : forest.base_score()) base.add_floats(static_cast<float>(v));
  }

  std::string bytes;
  if (!proto.SerializeToString(&bytes)) fail_internal("the ONNX model could not be serialized");
  return bytes;
}

}  // namespace loadcast

// The model as ONNX (docs/onnx.md): an `ai.onnx.ml` TreeEnsembleClassifier
// over the encoded feature vector, the form ONNX Runtime and other ONNX
// tools run outside loadcast.
#pragma once

#include <string>

#include "model/model.h"

namespace loadcast {

// The serialized ModelProto of `model`'s forest. Its graph takes the input
// `features` (float, rows x the encoder's features, in the order of the
// bundle's info.json `featureNames`) and gives `label` (int64: 1 low,
// 2 medium, 3 high) and `probabilities` (float, rows x 3, of the labels 1,
// 2 and 3): the mean of the trees' leaf distributions, as Model::predict.
// The feature names, class names and `version` (the served version) are
// in the model's metadata.
std::string onnx_model(const Model& model, const std::string& version);

}  // namespace loadcast

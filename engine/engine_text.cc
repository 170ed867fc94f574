// Text vectors in the engine: the text model is loaded once by Engine::Open and
// is immutable after, so AddPost and EmbedText use it from any thread without a
// lock. Encoding lives here, not in the server: handlers pass words through.
#include <string>

#include <spdlog/spdlog.h>

#include "engine/internal/engine_impl.h"
#include "engine/store/limits.h"

namespace bf {

Status ResolveTextModel(EngineOptions* options, std::unique_ptr<const text::TextModel>* model) {
  if (options->text_model.empty()) return Status::OK();
  auto loaded = text::TextModel::Load(options->text_model);
  if (!loaded.ok()) return loaded.status();
  const int dim = (*loaded)->dim();
  if (options->dim == 0) {
    options->dim = dim;
  } else if (options->dim != dim) {
    return Status::Invalid("dim is " + std::to_string(options->dim) + " but the text model " +
                           options->text_model + " makes " + std::to_string(dim) +
                           "-d vectors: leave --dim out (it follows the model) or set it to " +
                           std::to_string(dim));
  }
  options->index.dim = options->dim;
  spdlog::info("text model {}: {}-d, {} languages, loaded in {:.2f} s", options->text_model, dim,
               (*loaded)->languages().size(), (*loaded)->info().load_seconds);
  *model = std::move(loaded).value();
  return Status::OK();
}

Status EngineImpl::TextModelContext(const Status& store_error) const {
  // With the model's dim set, the store's only Invalid is a database made
  // with another dimension.
  if (text_model_ == nullptr || store_error.code() != Code::kInvalid) return store_error;
  const std::string d = std::to_string(text_model_->dim());
  return Status::Invalid(store_error.message() + ": the text model " + options_.text_model +
                         " makes " + d + "-d vectors, so its database must have dimension " + d +
                         "; use another --data-dir, or start without --text-model");
}

Status EngineImpl::TextVector(PostInput& post) const {
  if (text_model_ == nullptr) {
    return Status::Invalid("POST.ADD needs VECTOR (or TITLE or TEXT with a text model: "
                           "start the server with --text-model FILE)");
  }
  if (post.title.empty() && post.text.empty()) {
    return Status::Invalid("POST.ADD needs VECTOR, or TITLE or TEXT for its text vector");
  }
  auto v = text::EncodePost(*text_model_, post.title, post.text, post.lang.value_or(""));
  if (!v.ok()) return v.status();
  post.vector = std::move(v).value();
  return Status::OK();
}

Result<Vector> EngineImpl::EmbedText(std::string_view text, std::string_view lang) const {
  BF_RETURN_IF_ERROR(CheckOpen());
  if (text_model_ == nullptr) {
    return Status::Invalid("no text model loaded: start the server with --text-model FILE");
  }
  if (!lang.empty()) BF_RETURN_IF_ERROR(CheckLang(lang));
  return text_model_->Encode(text, lang);
}

std::optional<text::TextModel::Info> EngineImpl::TextModelInfo() const {
  if (text_model_ == nullptr) return std::nullopt;
  return text_model_->info();
}

}  // namespace bf

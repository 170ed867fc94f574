// Text vectors: EMBED. The engine holds the text model and encodes; this file
// parses the words and replies in POST.GET's vector shape (an FP32 blob).
#include "engine/server/internal/args.h"
#include "engine/server/internal/handlers.h"

namespace bf::internal {

// EMBED TEXT text [LANG l]
void CmdEmbed(CommandContext& ctx, CommandArgs args, RespWriter& w) {
  std::string_view text, lang;
  bool has_text = false;
  for (size_t i = 1; i < args.size();) {
    const std::string_view word = args[i];
    if (i + 1 >= args.size()) return w.Error(kSyntaxError);
    if (EqualsIgnoreCase(word, "TEXT")) {
      text = args[i + 1];
      has_text = true;
    } else if (EqualsIgnoreCase(word, "LANG")) {
      lang = args[i + 1];
    } else {
      return w.Error(kSyntaxError);
    }
    i += 2;
  }
  if (!has_text) return w.Error(kSyntaxError);
  auto v = ctx.engine->EmbedText(text, lang);
  if (!v.ok()) return w.Error(v.status());
  w.Bulk(ToFp32(*v));
}

}  // namespace bf::internal

// bridgefeed-import: fast offline bulk load of the JSON Lines files that
// bridgefeed-gen writes into a database the server is not running on, with
// the index snapshot built at the end. The work is tools/import/importer.h;
// this is its command line.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "embeddings/vector.h"
#include "tools/import/importer.h"

int main(int argc, char** argv) {
  bf::ImportOptions o;
  CLI::App app{"bridgefeed-import: bulk-loads posts, users and events (JSON Lines, the format\n"
               "bridgefeed-gen writes) into a database that no server has open."};
  app.add_option("--data-dir", o.data_dir, "Database folder (created if missing)")->required();
  app.add_option("--posts", o.posts, "posts.jsonl")->check(CLI::ExistingFile);
  app.add_option("--users", o.users, "users.jsonl")->check(CLI::ExistingFile);
  app.add_option("--events", o.events, "events.jsonl")->check(CLI::ExistingFile);
  app.add_option("--dim", o.dim,
                 "Vector dimension of a new database (default: the first vector's length); "
                 "must match an existing one")
      ->check(CLI::Range(1, bf::kMaxDim));
  app.add_option("--text-model", o.text_model,
                 "Lexicon file (./bridgefeed text-model): posts without a vector get the text "
                 "vector of their title and text; the database has the model's dimension")
      ->check(CLI::ExistingFile);
  app.add_flag("--skip-invalid", o.skip_invalid,
               "Load the valid lines, report and count the others (default: the first "
               "invalid line stops the import before anything is written)");
  app.add_flag("--keep-user-vectors", o.keep_user_vectors,
               "Events count but do not move user vectors");
  app.add_flag("--quiet", o.quiet, "No progress bar");
  app.add_option("--index", o.index,
                 "Index built at the end (Faiss factory string or auto; default: the "
                 "database's --index, else auto)");
  CLI11_PARSE(app, argc, argv);
  if (o.posts.empty() && o.users.empty() && o.events.empty()) {
    std::fprintf(stderr, "bridgefeed-import: nothing to import: give --posts, --users or --events\n");
    return 2;
  }
  return bf::Importer(o).Run();
}

// Importer: bulk-loads the JSON Lines files bridgefeed-gen writes (format:
// tools/import/import_parse.h) into a database no server has open, then
// builds its index snapshot. bridgefeed-import is flag parsing plus one
// Importer::Run; tests run it in-process.
//
// All or nothing, by default: every file is parsed and validated in full
// (events also checked against the posts they name) before the first write,
// so the first invalid line stops the import and leaves the database as it
// was (a new one is not even created). A disk failure in the write pass can
// still leave a partial import. skip_invalid does a single pass: valid lines
// are loaded, invalid ones reported (the first 20) and counted.
//
// Re-running an import is safe for posts and users (create or replace: the
// same files give the same records) but counts events again.
//
// Semantics match the wire commands: a post line is POST.ADD (a replace keeps
// its counters); a user line is USER.SET (fields it leaves out keep their
// values, counters are kept); an event line is EVENT: an unknown user is
// created, VIEW/positive/negative counters move for the user's culture, and
// the user's vector moves toward liked posts and away from hidden ones at the
// server's default rates (keep_user_vectors leaves imported vectors alone).
// Files load in the order posts, users, events.
//
// At the end the index is built over every stored post and written as the
// data dir's snapshot, stamped with the store sequence, so the server starts
// serving without building it. A failed build (say an IVF spec with too few
// posts to train) is a warning: the store is complete and the server builds
// the index at its next start.
//
// Thread-safety: one Run per Importer, from one thread (it uses a second
// thread of its own for writes).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace bf {

struct ImportOptions {
  std::string data_dir;                // created (mode 0700) when missing
  std::string posts, users, events;    // the files to load; empty: none
  int dim = 0;  // a new database's; 0: the first vector's length, else 64.
                // An existing database must have it (unless 0)
  // Lexicon file of a text model: posts without a vector get the text vector
  // of title and text (ImportParser). A new database then takes the model's
  // dimension; dim, if set, and an existing database must have it.
  std::string text_model;
  bool skip_invalid = false;
  bool keep_user_vectors = false;      // events count but move no user vector
  bool quiet = false;                  // no progress bars
  std::string index;  // spec of the index built at the end; empty: the
                      // database's --index, else auto
  // Where every message goes: invalid lines, progress, warnings, the summary.
  std::FILE* out = stderr;
};

// What a Run did.
struct ImportReport {
  int64_t posts = 0, users = 0, events = 0;  // lines loaded
  int64_t invalid = 0;                       // lines rejected
  bool index_built = false;                  // DIR/index.snap written
};

class Importer {
 public:
  explicit Importer(ImportOptions options);
  ~Importer();
  Importer(const Importer&) = delete;
  Importer& operator=(const Importer&) = delete;

  // Imports, writing to options.out what bridgefeed-import prints:
  //   an invalid line:  "FILE:LINE: CODE reason" (Status::ToString; unless
  //     quiet, after a newline that ends the progress bar's line)
  //   then, without skip_invalid:
  //     "bridgefeed-import: nothing was written (--skip-invalid loads the valid lines)"
  //   a text model that cannot be loaded, or of another dimension:
  //     "bridgefeed-import: <reason>"
  //   a database that cannot be opened (in use, another dimension, ...):
  //     "bridgefeed-import: <reason>"
  //   a failed read of a file in the check pass: "bridgefeed-import: CODE reason"
  //   a failed write: "bridgefeed-import: CODE reason (the import is partial)"
  //   unless quiet: a progress bar per file and pass (final lines only when
  //     out is not a terminal) and "index            TYPE over N posts built in S.Ss"
  //   a failed index build:
  //     "bridgefeed-import: warning: index not built (CODE reason); the server builds it at start"
  //   and, on success, "imported into DIR (dim D): P posts, U users, E events in S.Ss"
  //     plus "; N invalid lines skipped" with skip_invalid.
  // Returns the process exit code: 0 on success (lines skipped or not, index
  // built or not), 1 on any failure above. REQUIRES: at least one file; called once.
  int Run();

  const ImportReport& report() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bf

// CNF query syntax for `dedupdb search`: a conjunction of clauses, each a
// disjunction of substring terms (infini-gram's search_docs shape).
//
//   expr    := clause (AND clause)*          AND binds loosest
//   clause  := term (OR term)*
//   AND     := "AND" | "&"                    (keywords are case-sensitive)
//   OR      := "OR"  | "|"
//   term    := bare | quoted
//   bare    := a run of non-space bytes that is not an operator and does not
//              start with '"'
//   quoted  := '"' (any byte except '"' and '\', or \" \\ \n \t)* '"'
//
//   cat OR dog AND "New York"    ->  (cat | dog) & ("New York")
//
// Empty terms ("") are rejected: every document would match them trivially
// and that is almost always a quoting mistake.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace dedupdb {

// clauses[i] is one OR-list; the query is the AND of all clauses.
struct CnfQuery {
  std::vector<std::vector<std::string>> clauses;
  std::string ToString() const;  // canonical form, every term quoted
};

// Parses a whole CNF expression (see grammar above). Errors name the byte
// offset in `text`.
Status ParseCnf(std::string_view text, CnfQuery* out);
// Parses one clause (no AND allowed) and appends it to out->clauses; used by
// repeated `--clause` flags.
Status ParseCnfClause(std::string_view text, CnfQuery* out);

}  // namespace dedupdb

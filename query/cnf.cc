#include "query/cnf.h"

namespace dedupdb {
namespace {

enum class TokKind { kTerm, kAnd, kOr };
struct Tok {
  TokKind kind;
  std::string text;
  size_t offset;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

Status Lex(std::string_view s, std::vector<Tok>* out) {
  size_t i = 0;
  while (i < s.size()) {
    if (IsSpace(s[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    if (s[i] == '"') {
      std::string term;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char c = s[i];
        if (c == '"') {
          closed = true;
          ++i;
          break;
        }
        if (c == '\\') {
          if (i + 1 >= s.size()) break;
          char e = s[i + 1];
          if (e == '"' || e == '\\') term.push_back(e);
          else if (e == 'n') term.push_back('\n');
          else if (e == 't') term.push_back('\t');
          else
            return Status::InvalidArgument("query: unknown escape '\\" + std::string(1, e) + "' at byte " +
                                           std::to_string(i));
          i += 2;
          continue;
        }
        term.push_back(c);
        ++i;
      }
      if (!closed) return Status::InvalidArgument("query: unterminated quote starting at byte " + std::to_string(start));
      if (term.empty()) return Status::InvalidArgument("query: empty term \"\" at byte " + std::to_string(start));
      out->push_back(Tok{TokKind::kTerm, std::move(term), start});
      continue;
    }
    while (i < s.size() && !IsSpace(s[i])) ++i;
    std::string word(s.substr(start, i - start));
    if (word == "AND" || word == "&") out->push_back(Tok{TokKind::kAnd, word, start});
    else if (word == "OR" || word == "|") out->push_back(Tok{TokKind::kOr, word, start});
    else out->push_back(Tok{TokKind::kTerm, std::move(word), start});
  }
  return Status::OK();
}

Status Parse(std::string_view text, bool allow_and, CnfQuery* out) {
  std::vector<Tok> toks;
  DEDUPDB_RETURN_IF_ERROR(Lex(text, &toks));
  if (toks.empty()) return Status::InvalidArgument("query: empty query");
  std::vector<std::string> clause;
  bool want_term = true;
  for (const Tok& t : toks) {
    const std::string where = " at byte " + std::to_string(t.offset);
    if (want_term) {
      if (t.kind != TokKind::kTerm)
        return Status::InvalidArgument("query: expected a term but found operator '" + t.text + "'" + where);
      clause.push_back(t.text);
      want_term = false;
      continue;
    }
    switch (t.kind) {
      case TokKind::kTerm:
        return Status::InvalidArgument("query: expected AND/OR between terms, found '" + t.text + "'" + where +
                                       " (quote a term that contains spaces)");
      case TokKind::kOr:
        want_term = true;
        break;
      case TokKind::kAnd:
        if (!allow_and) return Status::InvalidArgument("query: AND is not allowed inside one --clause" + where);
        out->clauses.push_back(std::move(clause));
        clause.clear();
        want_term = true;
        break;
    }
  }
  if (want_term) return Status::InvalidArgument("query: ends with an operator, expected a term");
  out->clauses.push_back(std::move(clause));
  return Status::OK();
}

}  // namespace

Status ParseCnf(std::string_view text, CnfQuery* out) { return Parse(text, true, out); }
Status ParseCnfClause(std::string_view text, CnfQuery* out) { return Parse(text, false, out); }

std::string CnfQuery::ToString() const {
  std::string s;
  for (size_t c = 0; c < clauses.size(); ++c) {
    if (c) s += " AND ";
    for (size_t t = 0; t < clauses[c].size(); ++t) {
      if (t) s += " OR ";
      s += '"';
      for (char ch : clauses[c][t]) {
        if (ch == '"' || ch == '\\') s += '\\';
        if (ch == '\n') {
          s += "\\n";
          continue;
        }
        if (ch == '\t') {
          s += "\\t";
          continue;
        }
        s += ch;
      }
      s += '"';
    }
  }
  return s;
}

}  // namespace dedupdb

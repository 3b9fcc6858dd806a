// CNF query syntax of `dedupdb search` (query/cnf.h), checked against
// hand-written expected parses.
#include <gtest/gtest.h>

#include "query/cnf.h"

namespace dedupdb {
namespace {

using Clauses = std::vector<std::vector<std::string>>;

Clauses P(const std::string& s) {
  CnfQuery q;
  Status st = ParseCnf(s, &q);
  EXPECT_TRUE(st.ok()) << s << ": " << st.ToString();
  return q.clauses;
}

TEST(SaqCnf, PrecedenceAndQuoting) {
  EXPECT_EQ(P("a"), (Clauses{{"a"}}));
  EXPECT_EQ(P("a OR b AND c"), (Clauses{{"a", "b"}, {"c"}}));
  EXPECT_EQ(P("a AND b OR c AND d"), (Clauses{{"a"}, {"b", "c"}, {"d"}}));
  EXPECT_EQ(P("a | b & c"), (Clauses{{"a", "b"}, {"c"}}));
  EXPECT_EQ(P("\"new york\" OR nyc"), (Clauses{{"new york", "nyc"}}));
  EXPECT_EQ(P("\"say \\\"hi\\\"\" AND \"a\\\\b\""), (Clauses{{"say \"hi\""}, {"a\\b"}}));
  EXPECT_EQ(P("\"line\\nbreak\""), (Clauses{{"line\nbreak"}}));
  // Keywords are case-sensitive: lowercase "and" is a term.
  EXPECT_EQ(P("\"AND\" OR or"), (Clauses{{"AND", "or"}}));
  EXPECT_EQ(P("  x\tOR\ny  "), (Clauses{{"x", "y"}}));
}

TEST(SaqCnf, Errors) {
  CnfQuery q;
  for (const char* bad : {"", "   ", "a b", "AND a", "a OR", "a AND", "a OR OR b", "\"unterminated", "\"\"",
                          "\"bad \\q escape\""}) {
    q.clauses.clear();
    Status st = ParseCnf(bad, &q);
    EXPECT_TRUE(st.IsInvalidArgument()) << "'" << bad << "' parsed";
  }
  Status st = ParseCnf("a b", &q);
  EXPECT_NE(st.message().find("byte 2"), std::string::npos) << st.message();
}

TEST(SaqCnf, ClauseFlagsAndRoundTrip) {
  CnfQuery q;
  ASSERT_TRUE(ParseCnfClause("a|b", &q).ok()) << "bare a|b is one term";
  ASSERT_TRUE(ParseCnfClause("c OR \"d e\"", &q).ok());
  EXPECT_EQ(q.clauses, (Clauses{{"a|b"}, {"c", "d e"}}));
  EXPECT_TRUE(ParseCnfClause("a AND b", &q).IsInvalidArgument());

  CnfQuery r;
  r.clauses = {{"x\"y", "z"}, {"tab\there"}};
  CnfQuery back;
  ASSERT_TRUE(ParseCnf(r.ToString(), &back).ok()) << r.ToString();
  EXPECT_EQ(back.clauses, r.clauses);
}

}  // namespace
}  // namespace dedupdb

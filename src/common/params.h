// Parameters declared once. A ParamSet lists the fields of one options
// struct, each with its name, default, bounds and help text; reading and
// checking a JSON object or command-line text, the defaults of a new struct,
// the values recorded in the run history or a bundle, `--help` and the
// documentation tables all come from that one declaration.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/number.h"
#include "common/size.h"
#include "common/time.h"

namespace loadcast {

// `text` in single quotes, as errors show given texts, with control
// characters escaped (\n, \x01) so that a message stays one line (built
// piecewise: "'" + std::string trips GCC 12's -Wrestrict).
inline std::string single_quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (byte < 0x20 || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

// The name of every declaration's random seed.
inline constexpr const char* kSeedParam = "seed";
// The key that says how something is stored: the configuration's table
// format (csv, parquet) and the forest file's format marker.
inline constexpr const char* kFormatKey = "format";

// What is wrong with a value given for a parameter.
struct ParamProblem {
  enum Kind { kWrongType, kImpossible };
  Kind kind;
  // kWrongType: what was expected ("a whole number"); kImpossible: the value
  // as given ("0", "'csv'").
  std::string text;
  // kImpossible: what is allowed ("1 to 30"), or what was expected
  // ("expected YYYY-MM-DD HH:MM:SS").
  std::string allowed;

  static ParamProblem wrong_type(std::string expected) {
    return {kWrongType, std::move(expected), ""};
  }
  static ParamProblem impossible(std::string value, std::string allowed) {
    return {kImpossible, std::move(value), std::move(allowed)};
  }
};

// Where a read happens: names the source in errors and picks the exit code
// class (a configuration file: usage; a bundle file: data). Fields of a
// file are named `origin: field 'name'`; command-line options `--name`.
struct ParamSource {
  std::string origin;  // "conf.json", "bad forest"; empty for options
  ExitCode code = ExitCode::kUsage;
  bool options = false;
};

// One declared field of S.
template <class S>
struct Param {
  std::string name;              // the JSON key or the option's name
  std::string type_name;         // for people: "integer", "number", "text", ...
  std::string help;              // one sentence
  std::string default_text;      // as a user writes it, or the rule that gives it
  bool default_is_rule = false;  // default_text says how the default follows from other fields
  std::string allowed_text;      // "1 to 10000", "auto, sqrt, log2"; empty: any value of the type
  bool secret = false;           // never printed, recorded or logged
  std::function<void(S&)> set_default;  // empty when the default follows other fields
  std::function<std::optional<ParamProblem>(const nlohmann::json&, S&)> from_json;
  std::function<std::optional<ParamProblem>(std::string_view, S&)> from_text;
  std::function<nlohmann::json(const S&)> to_json;
  // For a nested object: reads its fields (see ParamSet::read).
  std::function<void(const nlohmann::json&, S&, const ParamSource&, std::vector<std::string>&)>
      read_nested;
};

// The range of a real-valued parameter; bounds are inclusive unless open.
struct RealRange {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  bool hi_open = false;

  bool contains(double v) const {
    return std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  }
  std::string text() const {
    std::string out;
    const auto bound = [](double v) { return nlohmann::json(v).dump(); };
    if (std::isfinite(lo)) out += (lo_open ? "above " : "at least ") + bound(lo);
    if (std::isfinite(hi))
      out += (out.empty() ? "" : ", ") + std::string(hi_open ? "below " : "at most ") + bound(hi);
    return out.empty() ? "any finite number" : out;
  }
};

template <class S>
class ParamSet {
 public:
  explicit ParamSet(std::string prefix = "") : prefix_(std::move(prefix)) {}

  // The dotted prefix of nested fields in errors and records ("forest.").
  const std::string& prefix() const { return prefix_; }
  const std::vector<Param<S>>& params() const { return params_; }
  const Param<S>* find(std::string_view name) const {
    for (const auto& p : params_)
      if (p.name == name) return &p;
    return nullptr;
  }

  ParamSet& add(Param<S> param) {
    params_.push_back(std::move(param));
    return *this;
  }

  // Marks the field declared last as one whose default follows a rule of
  // the struct's reader (`rule` says which, for people).
  ParamSet& default_by_rule(const std::string& rule) {
    params_.back().default_text = rule;
    params_.back().default_is_rule = true;
    params_.back().set_default = nullptr;
    return *this;
  }

  // A whole number in [lo, hi]; JSON integral floats (2.0) are accepted.
  template <class I>
  ParamSet& integer(const std::string& name, I S::*member, I def, I lo, I hi,
                    const std::string& help) {
    Param<S> p = base(name, "integer", help);
    p.default_text = std::to_string(def);
    p.allowed_text = std::to_string(lo) + " to " + std::to_string(hi);
    p.set_default = [member, def](S& s) { s.*member = def; };
    const std::string allowed = p.allowed_text;
    auto check = [member, lo, hi, allowed](long double v, std::string shown,
                                           S& s) -> std::optional<ParamProblem> {
      if (v < static_cast<long double>(lo) || v > static_cast<long double>(hi))
        return ParamProblem::impossible(std::move(shown), "allowed: " + allowed);
      s.*member = static_cast<I>(v);
      return std::nullopt;
    };
    p.from_json = [check](const nlohmann::json& v, S& s) -> std::optional<ParamProblem> {
      long double x;
      if (v.is_number_unsigned()) {
        x = static_cast<long double>(v.get<uint64_t>());
      } else if (v.is_number_integer()) {
        x = static_cast<long double>(v.get<int64_t>());
      } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) {
        x = v.get<double>();
      } else {
        return ParamProblem::wrong_type("a whole number");
      }
      return check(x, v.dump(), s);
    };
    p.from_text = [check](std::string_view text, S& s) -> std::optional<ParamProblem> {
      // Signed texts as long long, others as unsigned (seeds up to 2^64 - 1).
      const char* first = text.data();
      const char* last = first + text.size();
      long double x = 0;
      std::from_chars_result r{};
      if (!text.empty() && text[0] == '-') {
        long long v = 0;
        r = std::from_chars(first, last, v);
        x = static_cast<long double>(v);
      } else {
        unsigned long long v = 0;
        r = std::from_chars(first, last, v);
        x = static_cast<long double>(v);
      }
      if (r.ec != std::errc() || r.ptr != last || text.empty())
        return ParamProblem::wrong_type("a whole number");
      return check(x, std::string(text), s);
    };
    p.to_json = [member](const S& s) { return nlohmann::json(s.*member); };
    return add(std::move(p));
  }

  // A finite number in `range`.
  ParamSet& real(const std::string& name, double S::*member, double def, RealRange range,
                 const std::string& help) {
    Param<S> p = base(name, "number", help);
    p.default_text = nlohmann::json(def).dump();
    p.allowed_text = range.text();
    p.set_default = [member, def](S& s) { s.*member = def; };
    auto check = [member, range](double v, std::string shown, S& s) -> std::optional<ParamProblem> {
      if (!range.contains(v))
        return ParamProblem::impossible(std::move(shown), "allowed: " + range.text());
      s.*member = v;
      return std::nullopt;
    };
    p.from_json = [check](const nlohmann::json& v, S& s) -> std::optional<ParamProblem> {
      if (!v.is_number()) return ParamProblem::wrong_type("a number");
      return check(v.get<double>(), v.dump(), s);
    };
    p.from_text = [check](std::string_view text, S& s) -> std::optional<ParamProblem> {
      const auto v = parse_decimal(text);
      if (!v) return ParamProblem::wrong_type("a number");
      return check(*v, std::string(text), s);
    };
    p.to_json = [member](const S& s) { return nlohmann::json(s.*member); };
    return add(std::move(p));
  }

  // Any text; `secret` ones are never shown.
  ParamSet& text(const std::string& name, std::string S::*member, const std::string& def,
                 const std::string& help, bool secret = false) {
    textual(name, "text", member, help);
    params_.back().default_text = def;
    params_.back().secret = secret;
    params_.back().set_default = [member, def](S& s) { s.*member = def; };
    return *this;
  }

  // One of named values, stored as E; `aliases` are accepted too and read
  // as the value they name.
  template <class E>
  ParamSet& choice(const std::string& name, E S::*member, E def,
                   std::vector<std::pair<std::string, E>> values, const std::string& help,
                   std::vector<std::pair<std::string, E>> aliases = {}) {
    Param<S> p = base(name, "choice", help);
    for (const auto& [text, value] : values)
      if (value == def) p.default_text = text;
    std::vector<std::pair<std::string, E>> accepted = values;
    accepted.insert(accepted.end(), aliases.begin(), aliases.end());
    for (const auto& [text, value] : accepted)
      p.allowed_text += (p.allowed_text.empty() ? "" : ", ") + text;
    p.set_default = [member, def](S& s) { s.*member = def; };
    const std::string allowed = p.allowed_text;
    auto read = [member, accepted, allowed](std::string_view text,
                                            S& s) -> std::optional<ParamProblem> {
      for (const auto& [name, value] : accepted) {
        if (name == text) {
          s.*member = value;
          return std::nullopt;
        }
      }
      return ParamProblem::impossible(single_quoted(text), "allowed: " + allowed);
    };
    p.from_json = [read](const nlohmann::json& v, S& s) -> std::optional<ParamProblem> {
      if (!v.is_string()) return ParamProblem::wrong_type("a string");
      return read(v.get_ref<const std::string&>(), s);
    };
    p.from_text = read;
    p.to_json = [member, values](const S& s) {
      for (const auto& [text, value] : values)
        if (value == s.*member) return nlohmann::json(text);
      return nlohmann::json(nullptr);
    };
    return add(std::move(p));
  }

  // A byte count in [lo, hi]: a number, or a text with a binary suffix
  // ("512M", "4G"; common/size.h).
  ParamSet& size(const std::string& name, uint64_t S::*member, uint64_t def, uint64_t lo,
                 uint64_t hi, const std::string& help) {
    Param<S> p = base(name, "size", help);
    p.default_text = format_size(def);
    p.allowed_text = format_size(lo) + " to " + format_size(hi);
    p.set_default = [member, def](S& s) { s.*member = def; };
    const std::string allowed = p.allowed_text;
    auto check = [member, lo, hi, allowed](uint64_t v, std::string shown,
                                           S& s) -> std::optional<ParamProblem> {
      if (v < lo || v > hi)
        return ParamProblem::impossible(std::move(shown), "allowed: " + allowed);
      s.*member = v;
      return std::nullopt;
    };
    const ParamProblem wrong{ParamProblem::kWrongType, "a byte count like 500000, 10M or 1G", ""};
    p.from_text = [check, wrong](std::string_view text, S& s) -> std::optional<ParamProblem> {
      const auto v = parse_size(text);
      if (!v) return wrong;
      return check(*v, std::string(text), s);
    };
    p.from_json = [check, wrong, text = p.from_text](const nlohmann::json& v,
                                                     S& s) -> std::optional<ParamProblem> {
      if (v.is_number_unsigned()) return check(v.get<uint64_t>(), v.dump(), s);
      if (v.is_string()) return text(v.get_ref<const std::string&>(), s);
      return wrong;
    };
    p.to_json = [member](const S& s) { return nlohmann::json(s.*member); };
    return add(std::move(p));
  }

  // A file or folder path, read as text.
  ParamSet& path(const std::string& name, std::filesystem::path S::*member,
                 const std::string& default_text, const std::string& help) {
    textual(name, "path", member, help);
    params_.back().default_text = default_text;
    return *this;
  }

  // Every field of `nested` as a field of S at the same level, reached
  // through `part` (S's base or member of type N).
  template <class N>
  ParamSet& flatten(const ParamSet<N>& nested, N& (*part)(S&), const N& (*cpart)(const S&)) {
    for (const Param<N>& q : nested.params()) {
      Param<S> p;
      p.name = q.name;
      p.type_name = q.type_name;
      p.help = q.help;
      p.default_text = q.default_text;
      p.default_is_rule = q.default_is_rule;
      p.allowed_text = q.allowed_text;
      p.secret = q.secret;
      if (q.set_default) p.set_default = [f = q.set_default, part](S& s) { f(part(s)); };
      if (q.from_json)
        p.from_json = [f = q.from_json, part](const nlohmann::json& v, S& s) {
          return f(v, part(s));
        };
      if (q.from_text)
        p.from_text = [f = q.from_text, part](std::string_view t, S& s) { return f(t, part(s)); };
      if (q.to_json) p.to_json = [f = q.to_json, cpart](const S& s) { return f(cpart(s)); };
      if (q.read_nested)
        p.read_nested = [f = q.read_nested, part](
                            const nlohmann::json& v, S& s, const ParamSource& source,
                            std::vector<std::string>& unknown) { f(v, part(s), source, unknown); };
      add(std::move(p));
    }
    return *this;
  }
  // flatten() of a base class N of S.
  template <class N>
  ParamSet& flatten_base(const ParamSet<N>& nested) {
    return flatten<N>(
        nested, +[](S& s) -> N& { return s; }, +[](const S& s) -> const N& { return s; });
  }

  // A list of texts (a JSON array of strings).
  ParamSet& texts(const std::string& name, std::vector<std::string> S::*member,
                  const std::vector<std::string>& def, const std::string& help) {
    Param<S> p = base(name, "list of text", help);
    p.default_text = nlohmann::json(def).dump();
    p.set_default = [member, def](S& s) { s.*member = def; };
    p.from_json = [member](const nlohmann::json& v, S& s) -> std::optional<ParamProblem> {
      const ParamProblem wrong = ParamProblem::wrong_type("an array of strings");
      if (!v.is_array()) return wrong;
      std::vector<std::string> out;
      for (const auto& item : v) {
        if (!item.is_string()) return wrong;
        out.push_back(item.get<std::string>());
      }
      s.*member = std::move(out);
      return std::nullopt;
    };
    p.to_json = [member](const S& s) { return nlohmann::json(s.*member); };
    return add(std::move(p));
  }

  // A timestamp `YYYY-MM-DD HH:MM:SS` (docs/data-format.md), as TimeNs. Its
  // default is a rule of the struct's reader, so there is none here.
  ParamSet& timestamp(const std::string& name, TimeNs S::*member, const std::string& default_text,
                      const std::string& help) {
    Param<S> p = base(name, "timestamp", help);
    p.default_text = default_text;
    auto read = [member](std::string_view text, std::string shown,
                         S& s) -> std::optional<ParamProblem> {
      const auto t = parse_timestamp(text);
      if (!t) return ParamProblem::impossible(std::move(shown), "expected YYYY-MM-DD HH:MM:SS");
      s.*member = *t;
      return std::nullopt;
    };
    p.from_json = [read](const nlohmann::json& v, S& s) -> std::optional<ParamProblem> {
      if (!v.is_string()) return ParamProblem::wrong_type("a string");
      return read(v.get_ref<const std::string&>(), single_quoted(v.get_ref<const std::string&>()),
                  s);
    };
    p.from_text = [read](std::string_view text, S& s) {
      return read(text, single_quoted(text), s);
    };
    p.to_json = [member](const S& s) {
      return nlohmann::json(format_timestamp(seconds_of(s.*member)));
    };
    return add(std::move(p));
  }

  // A nested object read by its own set (whose prefix names its fields).
  template <class N>
  ParamSet& object(const std::string& name, N S::*member, const ParamSet<N>& nested,
                   const std::string& help);

  // Every declared default into `s` (fields whose default is a rule keep
  // theirs).
  void set_defaults(S& s) const {
    for (const auto& p : params_)
      if (p.set_default) p.set_default(s);
  }

  // Reads the declared fields present (not null) in `object` into `s`.
  // Throws Failure(source.code) naming the source and the field for a
  // wrong type or an impossible value; the fields of `object` that are not
  // declared are appended to `unknown` (with the prefix). Returns the names
  // of the fields read.
  std::set<std::string> read(const nlohmann::json& object, S& s, const ParamSource& source,
                             std::vector<std::string>& unknown) const {
    std::set<std::string> given;
    for (auto it = object.begin(); it != object.end(); ++it) {
      const Param<S>* p = find(it.key());
      if (!p || !(p->from_json || p->read_nested)) {
        unknown.push_back(prefix_ + it.key());
        continue;
      }
      if (it->is_null()) continue;
      if (p->read_nested) {
        if (!it->is_object()) fail(source, *p, ParamProblem::wrong_type("an object"), *it);
        p->read_nested(*it, s, source, unknown);
      } else if (const auto problem = p->from_json(*it, s)) {
        fail(source, *p, *problem, *it);
      }
      given.insert(p->name);
    }
    return given;
  }

  // Checks every field of `s` against its declaration, as read() would
  // check the same values; throws the same errors.
  void check(const S& s, const ParamSource& source) const {
    S scratch = s;
    for (const auto& p : params_) {
      if (!p.to_json || !p.from_json) continue;
      const nlohmann::json value = p.to_json(s);
      if (const auto problem = p.from_json(value, scratch)) fail(source, p, *problem, value);
    }
  }

  // {name: value} of every field that is not secret.
  nlohmann::json to_json(const S& s) const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& p : params_)
      if (!p.secret && p.to_json) out[p.name] = p.to_json(s);
    return out;
  }

  // Throws the error of `problem` for field `p` the way read() does;
  // `value` is the JSON value given (for a wrong type).
  [[noreturn]] void fail(const ParamSource& source, const Param<S>& p, const ParamProblem& problem,
                         const nlohmann::json& value) const {
    if (source.options) {
      const std::string option = "--" + p.name;
      if (problem.kind == ParamProblem::kWrongType)
        throw Failure(source.code, option + " " + value.dump() + ": expected " + problem.text);
      throw Failure(source.code,
                    option + " " + problem.text + " is impossible (" + problem.allowed + ")");
    }
    const std::string field = source.origin + ": field '" + prefix_ + p.name + "' ";
    if (problem.kind == ParamProblem::kWrongType)
      throw Failure(source.code, field + "must be " + problem.text + ", not " +
                                     std::string(value.type_name()) + " " + value.dump());
    throw Failure(source.code,
                  field + "has an impossible value " + problem.text + " (" + problem.allowed + ")");
  }
  // The same for a rule that involves other fields (`why`: "it lies before trainBegin").
  [[noreturn]] void fail_value(const ParamSource& source, std::string_view name,
                               const std::string& why) const {
    if (source.options) throw Failure(source.code, "--" + std::string(name) + ": " + why);
    throw Failure(source.code, source.origin + ": field '" + prefix_ + std::string(name) +
                                   "' has an impossible value (" + why + ")");
  }

  // Reads option texts, {name: text} of the options given, as the command
  // line gives them; errors name the option.
  void read_options(const std::vector<std::pair<std::string, std::string>>& given, S& s) const {
    const ParamSource source{"", ExitCode::kUsage, true};
    for (const auto& [name, text] : given) {
      const Param<S>* p = find(name);
      if (!p || !p->from_text) fail_internal("no option --" + name);
      if (const auto problem = p->from_text(text, s)) {
        if (problem->kind == ParamProblem::kWrongType)
          throw Failure(source.code,
                        "--" + name + " " + single_quoted(text) + ": expected " + problem->text);
        fail(source, *p, *problem, nlohmann::json(text));
      }
    }
  }

 private:
  // A field read as text into a string or a path.
  template <class T>
  void textual(const std::string& name, const std::string& type_name, T S::*member,
               const std::string& help) {
    Param<S> p = base(name, type_name, help);
    p.from_json = [member](const nlohmann::json& v, S& s) -> std::optional<ParamProblem> {
      if (!v.is_string()) return ParamProblem::wrong_type("a string");
      s.*member = v.get<std::string>();
      return std::nullopt;
    };
    p.from_text = [member](std::string_view text, S& s) -> std::optional<ParamProblem> {
      s.*member = std::string(text);
      return std::nullopt;
    };
    p.to_json = [member](const S& s) {
      if constexpr (std::is_same_v<T, std::filesystem::path>) {
        return nlohmann::json((s.*member).string());
      } else {
        return nlohmann::json(s.*member);
      }
    };
    add(std::move(p));
  }

  static Param<S> base(const std::string& name, const std::string& type_name,
                       const std::string& help) {
    Param<S> p;
    p.name = name;
    p.type_name = type_name;
    p.help = help;
    return p;
  }

  std::string prefix_;
  std::vector<Param<S>> params_;
};

template <class S>
template <class N>
ParamSet<S>& ParamSet<S>::object(const std::string& name, N S::*member, const ParamSet<N>& nested,
                                 const std::string& help) {
  Param<S> p = base(name, "object", help);
  p.set_default = [member, &nested](S& s) { nested.set_defaults(s.*member); };
  p.to_json = [member, &nested](const S& s) { return nested.to_json(s.*member); };
  p.read_nested = [member, &nested](const nlohmann::json& v, S& s, const ParamSource& source,
                                    std::vector<std::string>& unknown) {
    nested.read(v, s.*member, source, unknown);
  };
  return add(std::move(p));
}

// The defaults of every field, as `name value` pairs ("numTrees 100, maxDepth 8"),
// for help texts.
template <class S>
std::string describe_defaults(const ParamSet<S>& set) {
  std::string out;
  for (const auto& p : set.params())
    if (!p.default_text.empty()) out += (out.empty() ? "" : ", ") + p.name + " " + p.default_text;
  return out;
}

}  // namespace loadcast

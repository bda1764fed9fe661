// The CSV reader: numeric columns selected per field. Only the selected columns must
// be numbers (an id or name column may be text); every row must have the same number
// of cells. Errors point at file:line:column of the offending cell.
#include <charconv>
#include <cmath>

#include "core/data/readers.h"

namespace nng {

namespace {

struct Cell {
  std::string text;
  int col; // 1-based character column of the cell's first character
};

// Splits one line; a cell may be double-quoted (with "" for a quote inside), so a
// quoted header name may contain the delimiter.
std::vector<Cell> splitLine(const std::string &line, char delim) {
  std::vector<Cell> cells;
  size_t i = 0;
  for (;;) {
    Cell c{"", static_cast<int>(i) + 1};
    size_t j = i;
    while (j < line.size() && (line[j] == ' ' || line[j] == '\t'))
      ++j;
    if (j < line.size() && line[j] == '"') {
      c.col = static_cast<int>(j) + 1;
      for (++j; j < line.size(); ++j) {
        if (line[j] == '"' && j + 1 < line.size() && line[j + 1] == '"')
          c.text += line[++j];
        else if (line[j] == '"')
          break;
        else
          c.text += line[j];
      }
      size_t end = line.find(delim, j);
      i = end == std::string::npos ? line.size() : end;
    } else {
      size_t end = line.find(delim, i);
      i = end == std::string::npos ? line.size() : end;
      c.text = line.substr(j, i - j);
      while (!c.text.empty() && (c.text.back() == ' ' || c.text.back() == '\t'))
        c.text.pop_back();
      if (!c.text.empty())
        c.col = static_cast<int>(j) + 1;
    }
    cells.push_back(std::move(c));
    if (i >= line.size())
      break;
    ++i; // past the delimiter
  }
  return cells;
}

struct FieldData {
  std::string name;
  CsvColumns cols;
  std::vector<double> values;
  std::vector<int64_t> ints;
  bool allInt = true;
};

bool isIntegerLiteral(const std::string &s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i == s.size())
    return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

} // namespace

std::map<std::string, RawArray> readCsv(const CsvSpec &spec) {
  const std::string &path = spec.path;
  auto fail = [&](int line, int col, const std::string &msg) { throwAt(path, line, col, msg); };
  std::vector<uint8_t> bytes = readFileBytes(path, true);
  std::string text(bytes.begin(), bytes.end());
  bytes.clear();

  std::vector<FieldData> fields;
  for (const auto &[name, cols] : spec.columns)
    fields.push_back(FieldData{name, cols, {}, {}, true});

  size_t width = 0; // cells per row, from the first row
  int widthLine = 0;
  bool headerPending = spec.header;
  int64_t rows = 0;
  int lineNo = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineNo;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue;
    std::vector<Cell> cells = splitLine(line, spec.delimiter);
    if (width == 0) {
      width = cells.size();
      widthLine = lineNo;
      for (const FieldData &f : fields)
        for (int64_t c : f.cols.indices)
          if (c < 0 || static_cast<size_t>(c) >= width)
            fail(lineNo, 1,
                 "column " + std::to_string(c) + " of field '" + f.name +
                     "' is out of range: rows have " + std::to_string(width) +
                     " cells (columns 0.." + std::to_string(width - 1) + ")");
    } else if (cells.size() != width) {
      fail(lineNo, 1,
           "row has " + std::to_string(cells.size()) + " cells, expected " + std::to_string(width) +
               " (as on line " + std::to_string(widthLine) + ")");
    }
    if (headerPending) {
      headerPending = false;
      continue;
    }
    for (FieldData &f : fields) {
      for (int64_t c : f.cols.indices) {
        const Cell &cell = cells[static_cast<size_t>(c)];
        std::string where = "column " + std::to_string(c) + " (field '" + f.name + "')";
        if (cell.text.empty())
          fail(lineNo, cell.col, "empty cell in " + where);
        const char *b = cell.text.data();
        const char *e = b + cell.text.size();
        if (*b == '+') // from_chars rejects a leading '+'; CSV writers may emit one
          ++b;
        int64_t iv = 0;
        bool isInt = isIntegerLiteral(cell.text) && std::from_chars(b, e, iv).ec == std::errc();
        double dv = 0;
        if (isInt) {
          dv = static_cast<double>(iv);
        } else {
          auto r = std::from_chars(b, e, dv);
          if (r.ec != std::errc() || r.ptr != e)
            fail(lineNo, cell.col, "cell in " + where + " is not a number: '" + cell.text + "'");
          if (!std::isfinite(dv))
            fail(lineNo, cell.col,
                 (std::isnan(dv) ? "NaN" : "infinite value") + std::string(" in ") + where);
        }
        f.allInt = f.allInt && isInt;
        f.values.push_back(dv);
        f.ints.push_back(iv);
      }
    }
    ++rows;
  }
  if (rows == 0)
    fail(0, 0, spec.header ? "no data rows after the header" : "no data rows");

  std::map<std::string, RawArray> out;
  for (FieldData &f : fields) {
    RawArray a;
    a.file = path;
    a.shape = {rows};
    if (!f.cols.single)
      a.shape.push_back(static_cast<int64_t>(f.cols.indices.size()));
    if (f.allInt) {
      a.type = FileType::I64;
      a.bytes.resize(f.ints.size() * sizeof(int64_t));
      std::memcpy(a.bytes.data(), f.ints.data(), a.bytes.size());
    } else {
      a.type = FileType::F64;
      a.bytes.resize(f.values.size() * sizeof(double));
      std::memcpy(a.bytes.data(), f.values.data(), a.bytes.size());
    }
    out[f.name] = std::move(a);
  }
  return out;
}

} // namespace nng

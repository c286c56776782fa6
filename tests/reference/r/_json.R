# Minimal JSON writer for the reference scripts (jsonlite is not in Debian's r-base on this image).
# Sourced by survival_reference.R and the other scripts added with it.
#   * a named list -> object; an unnamed list -> array;
#   * a numeric/logical/character vector of length 1 -> scalar, longer (or wrapped in as.list) -> array;
#   * numbers are written with 17 significant digits (round-trip exact); NA/NaN/Inf are written as the
#     strings "NA", "NaN", "Inf", "-Inf" (the convention jsonlite uses and the Python tests decode).
json_scalar <- function(v) {
  if (is.character(v) || is.factor(v)) {
    if (is.na(v)) return("\"NA\"")
    s <- gsub("\\\\", "\\\\\\\\", as.character(v))
    s <- gsub("\"", "\\\\\"", s)
    s <- gsub("\n", "\\\\n", s)
    return(paste0("\"", s, "\""))
  }
  if (is.logical(v)) return(if (is.na(v)) "\"NA\"" else if (v) "true" else "false")
  if (is.nan(v)) return("\"NaN\"")
  if (is.na(v)) return("\"NA\"")
  if (is.infinite(v)) return(if (v > 0) "\"Inf\"" else "\"-Inf\"")
  if (is.integer(v)) return(as.character(v))
  sprintf("%.17g", v)
}
to_json <- function(x, indent = "") {
  inner <- paste0(indent, "  ")
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    parts <- vapply(x, to_json, character(1), indent = inner)
    if (!is.null(names(x))) {
      parts <- paste0(vapply(names(x), json_scalar, character(1)), ": ", parts)
      return(paste0("{\n", inner, paste(parts, collapse = paste0(",\n", inner)), "\n", indent, "}"))
    }
    return(paste0("[\n", inner, paste(parts, collapse = paste0(",\n", inner)), "\n", indent, "]"))
  }
  if (length(x) == 1) return(json_scalar(x))
  paste0("[", paste(vapply(seq_along(x), function(i) json_scalar(x[i]), character(1)), collapse = ", "), "]")
}
write_json_file <- function(x, path) writeLines(to_json(x), path)

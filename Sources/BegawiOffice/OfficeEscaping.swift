import Mustache

/// How `{{value}}` escapes on the dashboard's pages: by Unicode scalar, never by `Character`.
/// Mustache's own HTML escaping goes by `Character`, and `"` followed by a combining mark is one
/// `Character` that is not `"`, yet the browser's tokenizer sees a quote that ends the attribute.
/// The result is safe as text and inside a double-quoted attribute, and keeps every other
/// character as it is (a filter's value goes back as it was); a NUL, which HTML cannot carry,
/// becomes U+FFFD.
struct OfficeEscaping: MustacheContentType {
    /// The name the office's templates give in their `CONTENT_TYPE` pragma.
    static let name = "BEGAWI_HTML"

    func escapeText(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{0}": out += "&#xFFFD;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

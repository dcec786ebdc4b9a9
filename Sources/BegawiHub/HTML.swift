/// Markup for the dashboard's pages. Literal text written in the source is markup; every `String`
/// interpolated into it is escaped, so a value from the database or a request cannot reach a page
/// as markup unless it is wrapped in `HTML(trusted:)` on purpose.
///
/// Escaping goes by Unicode scalar, never by `Character`: `"` followed by a combining mark is one
/// `Character` that is not `"`, yet the browser's tokenizer sees a quote that ends the attribute.
struct HTML: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The markup as the browser receives it.
    private(set) var markup: String

    /// Markup that the caller vouches for (built from escaped parts or written in the source).
    init(trusted markup: String) { self.markup = markup }

    init(stringLiteral markup: String) { self.markup = markup }

    init(stringInterpolation: StringInterpolation) { markup = stringInterpolation.markup }

    var description: String { markup }

    static func + (a: HTML, b: HTML) -> HTML { HTML(trusted: a.markup + b.markup) }

    static func += (a: inout HTML, b: HTML) { a.markup += b.markup }

    /// Builds markup: literals as written, values escaped by where they go.
    struct StringInterpolation: StringInterpolationProtocol {
        var markup = ""

        init(literalCapacity: Int, interpolationCount: Int) { markup.reserveCapacity(literalCapacity + 16 * interpolationCount) }

        mutating func appendLiteral(_ literal: String) { markup += literal }

        /// Text to show: escaped, with invisible characters shown as a mark (safe in a quoted
        /// attribute too, though `attribute:` keeps a value as it is there).
        mutating func appendInterpolation(_ text: String) { HTML.appendText(text, to: &markup) }

        /// An attribute value inside double quotes that must keep its characters (a form's value,
        /// a key the browser test reads back): escaped, nothing shown differently.
        mutating func appendInterpolation(attribute text: String) { HTML.appendAttribute(text, to: &markup) }

        mutating func appendInterpolation(_ html: HTML) { markup += html.markup }

        mutating func appendInterpolation<N: BinaryInteger>(_ number: N) { markup += String(number) }
    }
}

extension HTML {
    /// Escapes the five characters that can end text or a quoted attribute, and shows invisible
    /// characters (`InvisibleCharacters`) as `⟨U+202E⟩` in a span of class `tanda`. The span's markup
    /// has no quote, so even in an attribute it cannot end the value.
    static func appendText(_ text: String, to out: inout String) {
        for scalar in text.unicodeScalars {
            if let entity = entity(scalar) {
                out += entity
            } else if InvisibleCharacters.isInvisible(scalar) {
                out += "<span class=tanda>" + InvisibleCharacters.mark(scalar) + "</span>"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }

    /// Escapes for a double-quoted attribute value; a NUL, which HTML cannot carry, becomes U+FFFD.
    static func appendAttribute(_ text: String, to out: inout String) {
        for scalar in text.unicodeScalars {
            if let entity = entity(scalar) {
                out += entity
            } else if scalar.value == 0 {
                out += "&#xFFFD;"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }

    static func entity(_ scalar: Unicode.Scalar) -> String? {
        switch scalar {
        case "&": "&amp;"
        case "<": "&lt;"
        case ">": "&gt;"
        case "\"": "&quot;"
        case "'": "&#39;"
        default: nil
        }
    }
}

extension Array where Element == HTML {
    /// The parts one after another.
    func joined() -> HTML { HTML(trusted: map(\.markup).joined()) }
}

/// Characters that change how the text around them reads without showing themselves, and how
/// the office's views show them: as their code point, `⟨U+202E⟩`.
public enum InvisibleCharacters {
    /// Control characters (a NUL ends a value in some programs; ESC drives a terminal), format
    /// characters (bidi embeddings, overrides and isolates, U+200E/F, U+061C, zero-width
    /// characters, the soft hyphen, tags) and the line and paragraph separators. Tab, line feed and
    /// carriage return count only when `whitespace` is false (a table's cell must stay on its line).
    public static func isInvisible(_ scalar: Unicode.Scalar, whitespace: Bool = true) -> Bool {
        if whitespace, scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    /// `⟨U+202E⟩`: how an invisible character is shown.
    public static func mark(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "⟨U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "⟩"
    }

    /// The text with every invisible character, tab and line breaks included, shown as its mark:
    /// one line that reads as what it holds (for a terminal's table).
    public static func shown(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if isInvisible(scalar, whitespace: false) { out += mark(scalar) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}

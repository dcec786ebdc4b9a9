import Mustache

/// Text as a page shows it: its invisible characters (`InvisibleCharacters`) as marks such as
/// `⟨U+202E⟩`, which the `shown` template puts in a span of class `tanda`. Every piece is still
/// escaped by `{{…}}`: the span is the template's markup, never the value's.
///
/// Both answer Mustache by name instead of through `Mirror`: every value on a page is one, and
/// reflection made a page of 500 conflicts several times slower.
struct Shown: MustacheParent {
    /// A run of visible text, or one invisible character's mark.
    struct Piece: MustacheParent {
        let text: String
        let mark: String
        let isMark: Bool

        func child(named name: String) -> Any? {
            switch name {
            case "text": text
            case "mark": mark
            case "isMark": isMark
            default: nil
            }
        }
    }

    let pieces: [Piece]

    init(_ text: String) {
        var pieces: [Piece] = []
        var run = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if InvisibleCharacters.isInvisible(scalar) {
                if !run.isEmpty { pieces.append(Piece(text: String(run), mark: "", isMark: false)) }
                run = String.UnicodeScalarView()
                pieces.append(Piece(text: "", mark: InvisibleCharacters.mark(scalar), isMark: true))
            } else {
                run.append(scalar)
            }
        }
        if !run.isEmpty { pieces.append(Piece(text: String(run), mark: "", isMark: false)) }
        self.pieces = pieces
    }

    func child(named name: String) -> Any? { name == "pieces" ? pieces : nil }
}

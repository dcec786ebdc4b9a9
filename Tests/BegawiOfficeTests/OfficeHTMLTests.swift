@testable import BegawiOffice
import Hummingbird
import Mustache
import Testing

/// The dashboard's markup: values escaped by Unicode scalars (a quote under a combining mark is
/// still a quote to the browser), and invisible characters shown.
@Suite struct OfficeHTMLTests {
    /// The program key from the issue: `"` + U+0301 is one `Character` that is not `"`.
    static let payload = "zz\"\u{301} selected hidden autofocus onfocus=alert(1) x=\""

    let pages: OfficePages

    init() throws { pages = try OfficePages() }

    /// A value shown as text, and the same value in a double-quoted attribute.
    struct Cell {
        let shown: Shown
        let value: String

        init(_ text: String) {
            shown = Shown(text)
            value = text
        }
    }

    func text(_ value: String) throws -> String {
        try pages.render(template: "{{#shown}}{{> shown}}{{/shown}}", Cell(value))
    }

    @Test func aKeyWithACombiningMarkAfterAQuoteGainsNoAttribute() throws {
        let select = OfficeViews.Select("program", [(OfficeHTMLTests.payload, "Las " + OfficeHTMLTests.payload), ("prog-b", "Jahit")], "prog-b")
        let markup = pages.render("select", select)
        let tags = StartTag.all("option", in: markup)
        #expect(tags.count == 3)
        let injected = try #require(tags.first { $0.attributes.first?.value == OfficeHTMLTests.payload }, "\(markup)")
        #expect(injected.attributes.map(\.name) == ["value"], "\(markup)")
        #expect(tags.last?.attributes.map(\.name) == ["value", "selected"])
        #expect(StartTag.all("select", in: markup).count == 1)
    }

    @Test func everyValueIsEscapedInTextAndAttributes() throws {
        let hostile = "<script>&'\"\u{301}x"
        let markup = try pages.render(template: "<td>{{#shown}}{{> shown}}{{/shown}}</td><td title=\"{{value}}\">", Cell(hostile))
        #expect(markup == "<td>&lt;script&gt;&amp;&#39;&quot;\u{301}x</td><td title=\"&lt;script&gt;&amp;&#39;&quot;\u{301}x\">")
        // Mustache's own escaping goes by `Character` and lets this quote through: the office's
        // templates must never fall back to it.
        #expect(try MustacheTemplate(string: "{{value}}").render(Cell(hostile)).contains("\"\u{301}"))
    }

    /// No template writes a value unescaped, and each one escapes by `OfficeEscaping`.
    @Test func noTemplateWritesAValueUnescaped() throws {
        for (name, text) in OfficeTemplates.all {
            #expect(!text.contains("{{{") && !text.contains("{{&") && !text.contains("{{="), "\(name)")
            #expect(!text.contains("{{%"), "\(name) sets its own content type")
            #expect(pages.library.getTemplate(named: name) != nil, "\(name)")
        }
        // Every page rendered with hostile values holds them as text only.
        let nav = OfficeViews.Nav(csrf: OfficeHTMLTests.payload, site: Shown(OfficeHTMLTests.payload))
        let page = pages.render("notice", OfficeViews.Notice(title: "Konflik", nav: nav, message: Shown(OfficeHTMLTests.payload)))
        #expect(!StartTag.all("input", in: page).contains { $0.attributes.contains { $0.name == "onfocus" } }, "\(page)")
        #expect(StartTag.all("input", in: page).first?.attributes.last?.value == OfficeHTMLTests.payload, "\(page)")
    }

    @Test func bidiControlsAndOtherInvisibleCharactersAreShown() throws {
        for code: UInt32 in [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C,
                             0x200B, 0xFEFF, 0x0000, 0x001B, 0x0085, 0x2028] {
            let scalar = Unicode.Scalar(code)!
            let hex = String(code, radix: 16, uppercase: true)
            let shown = "⟨U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "⟩"
            let page = try pages.render(template: "<td>{{#shown}}{{> shown}}{{/shown}}</td>", Cell("a\(String(scalar))b"))
            #expect(page == "<td>a<span class=tanda>\(shown)</span>b</td>", "U+\(hex)")
            #expect(!page.unicodeScalars.contains(scalar), "U+\(hex) reached the page raw")
        }
        // The file name reads as what it is, and a NUL hides nothing after it.
        #expect(try text("Pelatihan \u{202E}fdp.exe") == "Pelatihan <span class=tanda>⟨U+202E⟩</span>fdp.exe")
        #expect(try text("Las\u{0}rahasia") == "Las<span class=tanda>⟨U+0000⟩</span>rahasia")
        // Tab, line feed and carriage return are whitespace, and letters of any script are letters.
        #expect(try text("a\tb\nc\rd Ünal عربي") == "a\tb\nc\rd Ünal عربي")
        // An attribute keeps its characters (a filter's value goes back as it was), but no NUL.
        #expect(try pages.render(template: "{{value}}", Cell("a\u{202E}b\u{0}c")) == "a\u{202E}b&#xFFFD;c")
    }

    @Test func formsAreDecodedByBytes() {
        #expect(OfficeForm.decode(Array("csrf=ab%2Bc&kredensial=x+y%zz&+\u{301}=1".utf8))
                == ["csrf": "ab+c", "kredensial": "x y%zz", " \u{301}": "1"])
        #expect(OfficeForm.decode(Array("a=1&\u{301}b=2&&c".utf8)) == ["a": "1", "\u{301}b": "2", "c": ""])
    }

    /// Why the office keeps `OfficeForm`: Hummingbird's decoder splits on `&` and `=` by
    /// `Character`, so a `&` under a combining mark joins two fields, and it refuses a bad `%` escape
    /// that a browser may send inside a pasted credential.
    @Test func hummingbirdsFormDecoderSplitsByCharacter() throws {
        let decoder = URLEncodedFormDecoder()
        #expect(try decoder.decode([String: String].self, from: "a=1&\u{301}b=2")["a"] != "1")
        #expect(throws: (any Error).self) { try decoder.decode([String: String].self, from: "kredensial=x%zz") }
    }
}

/// A start tag's attributes as an HTML tokenizer reads them (WHATWG "before attribute name" to
/// "after attribute value" states), by Unicode scalars: enough to see an injected attribute.
struct StartTag {
    var attributes: [(name: String, value: String)] = []

    /// Every start tag with this name in the markup.
    static func all(_ name: String, in markup: String) -> [StartTag] {
        let s = Array(markup.unicodeScalars)
        let open = Array(("<" + name).unicodeScalars)
        var tags: [StartTag] = []
        var i = 0
        while i + open.count <= s.count {
            guard Array(s[i..<i + open.count]) == open, i + open.count < s.count,
                  " \t\n\u{C}>/".unicodeScalars.contains(s[i + open.count]) else { i += 1; continue }
            i += open.count
            var tag = StartTag()
            func isSpace(_ c: Unicode.Scalar) -> Bool { " \t\n\u{C}\r".unicodeScalars.contains(c) }
            while i < s.count {
                while i < s.count, isSpace(s[i]) || s[i] == "/" { i += 1 }
                guard i < s.count, s[i] != ">" else { break }
                var attributeName = String.UnicodeScalarView()
                repeat { attributeName.append(s[i]); i += 1 } while i < s.count && !isSpace(s[i]) && !"/>=".unicodeScalars.contains(s[i])
                while i < s.count, isSpace(s[i]) { i += 1 }
                var value = String.UnicodeScalarView()
                if i < s.count, s[i] == "=" {
                    i += 1
                    while i < s.count, isSpace(s[i]) { i += 1 }
                    if i < s.count, s[i] == "\"" || s[i] == "'" {
                        let quote = s[i]
                        i += 1
                        while i < s.count, s[i] != quote { value.append(s[i]); i += 1 }
                        i += 1
                    } else {
                        while i < s.count, !isSpace(s[i]), s[i] != ">" { value.append(s[i]); i += 1 }
                    }
                }
                tag.attributes.append((String(attributeName), decode(String(value))))
            }
            tags.append(tag)
        }
        return tags
    }

    /// The character references `OfficeEscaping` writes, by scalars.
    static func decode(_ text: String) -> String {
        let entities: [(String, Unicode.Scalar)] = [("&quot;", "\""), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&#xFFFD;", "\u{FFFD}"), ("&amp;", "&")]
        let s = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        outer: while i < s.count {
            for (entity, scalar) in entities {
                let e = Array(entity.unicodeScalars)
                if i + e.count <= s.count, Array(s[i..<i + e.count]) == e {
                    out.append(scalar)
                    i += e.count
                    continue outer
                }
            }
            out.append(s[i])
            i += 1
        }
        return String(out)
    }
}

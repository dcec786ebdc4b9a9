import BegawiCore
import Foundation

/// The dashboard's pages: server-rendered HTML with labels in Bahasa Indonesia, no script. Pages are
/// `HTML`, which escapes every value; times are shown in WITA (Bontang's time zone, UTC+8).
enum OfficeHTML {
    /// A whole page; `csrf` is nil on the sign-in page (no navigation then).
    static func page(title: String, csrf: String?, site: String? = nil, _ body: HTML) -> HTML {
        var nav: HTML = ""
        if let csrf {
            let who: HTML = site.map { " (\($0))" } ?? ""
            nav = """
                <nav><a href="/office/">Ringkasan</a> <a href="/office/pendaftaran">Pendaftaran</a> <a href="/office/konflik">Konflik</a>
                <form method="post" action="/office/keluar" class="keluar"><input type="hidden" name="csrf" value="\(attribute: csrf)">\
                <button type="submit">Keluar\(who)</button></form></nav>
                """
        }
        return """
            <!doctype html>
            <html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(attribute: title) · Handak Begawi</title><link rel="stylesheet" href="/office/gaya.css"></head>
            <body><header><strong>Handak Begawi</strong> · Dinas Ketenagakerjaan Kota Bontang\(nav)</header>
            <main><h1>\(title)</h1>
            \(body)
            </main></body></html>
            """
    }

    /// A drop-down of (value, label) choices with "semua" (all) first; the value keeps its
    /// characters (it goes back in the filter), the label shows invisible ones.
    static func select(_ name: String, _ choices: [(String, String)], _ selected: String?) -> HTML {
        let chosen = { (value: String) -> HTML in value == selected ? " selected" : "" }
        return "<select name=\"\(attribute: name)\" id=\"\(attribute: name)\"><option value=\"\">semua</option>" + choices.map { value, label -> HTML in
            "<option value=\"\(attribute: value)\"\(chosen(value))>\(label)</option>"
        }.joined() + "</select>"
    }

    static let style = """
        body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b}header{background:#0b5d3b;color:#fff;padding:.6em 1em}
        header a{color:#fff;margin-right:1em}nav{display:inline-block;margin-left:2em}form.keluar{display:inline}
        main{padding:1em}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}
        td.n{text-align:right;font-variant-numeric:tabular-nums}tr.total td{font-weight:bold;background:#f1f1f1}
        .peringatan{color:#a40000}.catatan{color:#555}form.saring label{margin-right:1em}
        .tanda{background:#fff3bf;color:#7a4b00;border:1px solid #c99700;border-radius:2px;font-size:.85em;padding:0 .15em}
        """

    /// A time in WITA, or "belum pernah" (never). Computed, not formatted by a `DateFormatter`
    /// per table cell.
    static func time(_ ms: Int64?) -> String {
        guard let ms else { return "belum pernah" }
        var seconds = time_t(ms / 1000 + 8 * 3600)
        var t = tm()
        gmtime_r(&seconds, &t)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d WITA", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
    }

    /// Seconds with a decimal comma, as written in Indonesian ("1,5 detik").
    static func seconds(_ ms: Int64?) -> String {
        guard let ms else { return "–" }
        return String(format: "%.1f", Double(ms) / 1000).replacingOccurrences(of: ".", with: ",") + " detik"
    }

    static func value(_ v: SQLValue) -> String {
        switch v {
        case .null: "(kosong)"
        case .integer(let i): String(i)
        case .real(let d): String(d)
        case .text(let t): t
        case .blob(let b): "(\(b.count) bita)"
        }
    }

    /// Enrollment statuses in Bahasa Indonesia.
    static func status(_ s: String) -> String {
        ["registered": "Terdaftar", "active": "Aktif", "completed": "Selesai", "certified": "Bersertifikat", "dropped": "Mengundurkan diri"][s] ?? s
    }
}

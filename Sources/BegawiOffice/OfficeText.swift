import BegawiCore
import Foundation

/// How the dashboard writes times, durations, values and statuses: in Bahasa Indonesia, times in
/// WITA (Bontang's time zone, UTC+8).
enum OfficeText {
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

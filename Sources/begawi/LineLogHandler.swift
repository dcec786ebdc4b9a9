#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// One line per event on stderr. Under journald (`$JOURNAL_STREAM` names stderr's device and
/// inode) each line starts with its syslog priority (`<4>` for a warning) and carries no time stamp,
/// which the journal adds; elsewhere lines start with an ISO 8601 time and the level.
struct LineLogHandler: LogHandler {
    let label: String
    let journal: Bool
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        var text = journal ? "<\(LineLogHandler.priority(event.level))>" : "\(LineLogHandler.timestamp()) \(event.level) "
        text += LineLogHandler.escape("\(label): \(event.message)")
        for key in all.keys.sorted() { text += LineLogHandler.escape(" \(key)=\(all[key]!)") }
        LineLogHandler.write(text + "\n")
    }

    /// One event, one line, whatever a message or value holds: by Unicode scalars (a `Character`
    /// takes CR LF as one), `\` is doubled, CR, LF and tab are written `\r`, `\n`, `\t`, and every
    /// other control, format (bidi overrides, zero-width) or line-separating character as
    /// `\u{XXXX}`, so that no value can end a line, fake one, or reorder what a reader sees.
    static func escape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .lineSeparator, .paragraphSeparator:
                    out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
                default: out.append(scalar)
                }
            }
        }
        return String(out)
    }

    /// The syslog priority journald reads from a `<N>` prefix.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Whether stderr is the journal's stream (`$JOURNAL_STREAM` = "DEVICE:INODE" of stderr).
    static func stderrIsJournal(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        #if canImport(Glibc)
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
        #else
        return false
        #endif
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    private static let lock = NSLock()

    static func write(_ text: String) {
        lock.withLock { FileHandle.standardError.write(Data(text.utf8)) }
    }
}

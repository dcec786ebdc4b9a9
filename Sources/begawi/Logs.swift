import Foundation
import Logging

/// Logging for the daemons: one line per event on stderr, with the journal's priority prefix when
/// stderr is the journal (`LineLogHandler`).
enum Logs {
    nonisolated(unsafe) private static var done = false

    static func logger(_ label: String) -> Logger {
        if !done {
            done = true
            let journal = LineLogHandler.stderrIsJournal()
            let level = ProcessInfo.processInfo.environment["BEGAWI_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            LoggingSystem.bootstrap { label in
                var handler = LineLogHandler(label: label, journal: journal)
                handler.logLevel = level
                return handler
            }
        }
        return Logger(label: label)
    }
}

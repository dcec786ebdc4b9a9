import Foundation
import Logging

/// Logging for the daemons: one line per event on stderr (issue 5 adds the journal's priority prefix).
enum Logs {
    nonisolated(unsafe) private static var done = false

    static func logger(_ label: String) -> Logger {
        if !done {
            done = true
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = ProcessInfo.processInfo.environment["BEGAWI_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
                return handler
            }
        }
        return Logger(label: label)
    }
}

import ArgumentParser
import BegawiCore

/// The one executable: `begawi hub …` (the office's hub), `begawi site …` (a partner's daemon), `begawi replica …`
/// (one replica file by hand), `begawi demo` and `begawi version`.
@main
struct Begawi: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "begawi",
        abstract: "Keeps the Handak Begawi partners' SQLite replicas in step.",
        version: DaemonVersion.current.description,
        subcommands: [HubCommand.self, SiteCommand.self, ReplicaCommand.self, DemoCommand.self, VersionCommand.self])
}

import ArgumentParser

/// The one executable: `begawi replica …` now; `begawi hub …` and `begawi site …` come with the daemon.
@main
struct Begawi: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "begawi",
        abstract: "Keeps the Handak Begawi partners' SQLite replicas in step.",
        version: "0.1.0",
        subcommands: [HubCommand.self, SiteCommand.self, ReplicaCommand.self, DemoCommand.self, VersionCommand.self])
}
